-- Forum posts and replies count as activity in the analytics rollup (a member who only posted is an active
-- user of that day): the rollup reads each day's posts and replies by their time across every community.
create index forum_posts_created_at_idx on public.forum_posts (created_at);
create index forum_replies_created_at_idx on public.forum_replies (created_at);
