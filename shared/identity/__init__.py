"""Identity and tenancy: profiles, staff, communities, memberships."""
