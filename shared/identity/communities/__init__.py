"""Communities (tenants): settings, feature flags, AI settings, lifecycle and the admin dashboard."""
