"""Hospital staff in the back office: roles and permissions, accounts, signing in, the audit log,
the booking and error logs and how long they are kept."""
