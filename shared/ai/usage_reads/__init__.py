"""Reading AI usage: per month against the quota, per agent and per user, for community admins and staff."""
