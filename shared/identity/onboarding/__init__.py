"""Onboarding: signup links, invitations and bulk imports that bring people into a community."""
