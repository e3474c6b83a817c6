"""Gamification: activity days and streaks, the achievement catalogue, awards and leaderboards."""
