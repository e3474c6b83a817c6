-- A post's reply_count is the number of replies its readers see: neither hidden by a moderator nor deleted
-- by their author. One trigger keeps it, whoever writes the reply (our functions, a moderator's hide or
-- restore, an author's delete, a service-role script); forum_create_reply no longer counts by hand.
-- A deleted reply keeps its place in the thread (answers to it keep their context) but no longer counts.

create or replace function app.forum_count_replies() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_was integer := case when tg_op <> 'INSERT' and old.hidden_at is null and old.deleted_at is null then 1 else 0 end;
  v_is integer := case when tg_op <> 'DELETE' and new.hidden_at is null and new.deleted_at is null then 1 else 0 end;
begin
  if v_is <> v_was then
    -- On a post's own deletion its replies go by cascade after it: the update then finds no row.
    update public.forum_posts set reply_count = reply_count + v_is - v_was
     where id = case when tg_op = 'DELETE' then old.post_id else new.post_id end;
  end if;
  return null;
end
$$;
revoke all on function app.forum_count_replies() from public, anon, authenticated;

create trigger forum_replies_count after insert or delete or update of hidden_at, deleted_at
  on public.forum_replies for each row execute function app.forum_count_replies();

create or replace function app.forum_create_reply(p_post uuid, p_parent uuid, p_body text) returns public.forum_replies
language plpgsql security definer set search_path = '' as $$
declare
  p public.forum_posts := app.forum_thread(p_post);
  r public.forum_replies;
begin
  if p.is_locked then
    raise exception 'thread_locked: this thread is locked' using errcode = 'P0001';
  end if;
  perform app.forum_require_reply(p.id, p_parent);
  perform app.forum_check_pace();
  insert into public.forum_replies (post_id, community_id, parent_id, author_id, author_name, body)
  values (p.id, p.community_id, p_parent, auth.uid(), app.forum_author_name(), p_body)
  returning * into r;
  update public.forum_posts set last_activity_at = r.created_at where id = p.id;
  perform app.forum_posted(r.community_id, r.author_id, p.id, r.id, r.created_at);
  perform app.send_event('forum.replied', jsonb_build_object(
    'user_id', r.author_id, 'community_id', r.community_id, 'post_id', p.id, 'reply_id', r.id,
    'post_author_id', p.author_id, 'post_title', p.title, 'author_name', r.author_name,
    'replied_at', r.created_at));
  return r;
end
$$;

-- Posts written before this migration: counted again from their replies.
update public.forum_posts p
   set reply_count = (select count(*) from public.forum_replies r
                       where r.post_id = p.id and r.hidden_at is null and r.deleted_at is null);
