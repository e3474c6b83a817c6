"""Community forum: posts, threaded replies, reactions, reports and moderation, behind the community's switch."""
