-- What a granted item uses comes with it: the learner who may open a WOD may open the video it embeds,
-- and the one who may open a program may open its WODs (and what they embed).
--
-- app.granted_content_ids() (what row level security lets a learner read) now adds, to the items granted
-- to the caller (app.directly_granted_content_ids(), what the catalogue lists), the items those name in
-- their payloads (public.content_references, two levels: program → WOD → embedded item), when the
-- naming item is published and the named item has the SAME owner. Whether the named item is itself
-- published stays the policy's condition on its row. The same-owner rule keeps a community admin, who
-- may embed a platform item granted to a tag, a member or a window of their community, from widening
-- that grant to everyone who sees their WOD: a platform item reaches a community's learners only
-- through the platform's own grants.

create or replace function app.directly_granted_content_ids(p_community uuid default null) returns uuid[]
language sql stable security definer set search_path = '' as $$
  with mine as (
    select m.community_id from public.memberships m join public.communities c on c.id = m.community_id
     where m.user_id = auth.uid() and c.status = 'active'
       and (p_community is null or m.community_id = p_community)
  ), granted as (
    select g.item_id, g.starts_at, g.ends_at from public.content_grants g join mine using (community_id)
     where g.tag_id is null and g.user_id is null
    union all
    select g.item_id, g.starts_at, g.ends_at from public.user_tag_assignments a
      join mine using (community_id)
      join public.content_grants g on g.tag_id = a.tag_id and g.community_id = a.community_id
     where a.user_id = auth.uid()
    union all
    select g.item_id, g.starts_at, g.ends_at from public.content_grants g join mine using (community_id)
     where g.user_id = auth.uid()
  )
  select coalesce(array_agg(distinct g.item_id), '{}')
    from granted g
   where (g.starts_at is null or g.starts_at <= now())
     and (g.ends_at is null or now() < g.ends_at)
$$;

create or replace function app.granted_content_ids(p_community uuid default null) returns uuid[]
language sql stable security definer set search_path = '' as $$
  with recursive reached (item_id, depth) as (
    select granted, 0 from unnest(app.directly_granted_content_ids(p_community)) as granted
    union
    select r.target_id, reached.depth + 1
      from reached
      join public.content_items i on i.id = reached.item_id and i.status = 'published'
      join public.content_references r on r.item_id = i.id
      join public.content_items t on t.id = r.target_id
     where reached.depth < 2 and t.community_id is not distinct from i.community_id
  )
  select coalesce(array_agg(distinct item_id), '{}') from reached
$$;

revoke all on function app.directly_granted_content_ids(uuid) from public, anon, authenticated;
grant execute on function app.directly_granted_content_ids(uuid) to authenticated, service_role;
