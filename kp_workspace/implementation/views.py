"""The implementation pages and API: thin views over :mod:`kp_workspace.implementation`."""
