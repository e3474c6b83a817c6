"""People administration: community members and their tags, platform staff, account status, the audit trail."""
