-- Learning: enrollments in programs, completion stamps, quiz attempts (issue 13).
--
-- Progress lives in one store, public.learning_completions: a stamp per (user, target type, target id)
-- for a block, a page, a whole WOD or BLOCK item ('wod') or a program item. Percentages are derived from
-- the stamps and the items' payloads (app.item_progress, app.program_progress), never stored.
--
-- Every write goes through a SECURITY DEFINER function that checks its caller inside and sends its
-- events itself (app.send_event), so a PostgREST caller meets the same rules as our functions and no
-- recorded fact goes without its event. The API roles only read these tables (their own rows; staff;
-- the community's admins). A quiz is scored here, against public.content_item_keys, which no learner
-- reads: the answers never leave the database before a submission.

-- ---------------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------------

create table public.learning_enrollments (
  id uuid primary key default gen_random_uuid(),
  community_id uuid not null,
  user_id uuid not null,
  program_id uuid not null references public.content_items (id) on delete cascade,
  status text not null default 'active' check (status in ('active', 'completed', 'dropped')),
  source text not null check (source in ('self', 'admin')),
  enrolled_by uuid references public.profiles (id) on delete set null,
  enrolled_at timestamptz not null default now(),
  completed_at timestamptz,
  dropped_at timestamptz,
  unique (user_id, program_id),
  -- Leaving the community ends the enrollment with the membership.
  foreign key (community_id, user_id) references public.memberships (community_id, user_id) on delete cascade,
  check ((status = 'completed') = (completed_at is not null)),
  check ((status = 'dropped') = (dropped_at is not null))
);
create index learning_enrollments_program_idx on public.learning_enrollments (program_id) where status <> 'dropped';
create index learning_enrollments_community_idx on public.learning_enrollments (community_id, program_id);

create table public.learning_completions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  community_id uuid not null,
  target_type text not null check (target_type in ('block', 'page', 'wod', 'program_item')),
  target_id uuid not null,
  -- The WOD or BLOCK a block or page is in, the WOD or BLOCK itself, or the program of a program item.
  item_id uuid not null references public.content_items (id) on delete cascade,
  score numeric(5, 2) check (score between 0 and 100),
  time_spent_s integer check (time_spent_s between 0 and 604800),
  completed_at timestamptz not null default now(),
  unique (user_id, target_type, target_id),
  foreign key (community_id, user_id) references public.memberships (community_id, user_id) on delete cascade
);
create index learning_completions_item_idx on public.learning_completions (user_id, item_id);
create index learning_completions_community_idx on public.learning_completions (community_id);

create table public.learning_quiz_attempts (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  community_id uuid not null,
  item_id uuid not null references public.content_items (id) on delete cascade,
  block_id uuid not null,
  number integer not null check (number >= 1),
  status text not null default 'open' check (status in ('open', 'submitted', 'expired')),
  started_at timestamptz not null default now(),
  deadline timestamptz,
  submitted_at timestamptz,
  answers jsonb check (answers is null or octet_length(answers::text) <= 200000),
  score numeric(5, 2) check (score between 0 and 100),
  passed boolean,
  results jsonb,
  unique (user_id, item_id, block_id, number),
  foreign key (community_id, user_id) references public.memberships (community_id, user_id) on delete cascade,
  check ((status = 'submitted') = (submitted_at is not null and score is not null and passed is not null))
);
create unique index learning_quiz_attempts_open_key on public.learning_quiz_attempts (user_id, item_id, block_id)
  where status = 'open';
create index learning_quiz_attempts_community_idx on public.learning_quiz_attempts (community_id);

alter table public.learning_enrollments enable row level security;
alter table public.learning_completions enable row level security;
alter table public.learning_quiz_attempts enable row level security;
revoke all on public.learning_enrollments, public.learning_completions, public.learning_quiz_attempts
  from anon, authenticated, public;
grant all on public.learning_enrollments, public.learning_completions, public.learning_quiz_attempts to service_role;
grant select on public.learning_enrollments, public.learning_completions, public.learning_quiz_attempts
  to authenticated;

-- Read: your own, every row for staff, your community's for its admins. Nobody writes but the functions.
create policy learning_enrollments_read on public.learning_enrollments for select to authenticated
  using (user_id = (select auth.uid()) or (select app.is_staff())
         or community_id = any ((select app.administered_communities())::uuid[]));
create policy learning_completions_read on public.learning_completions for select to authenticated
  using (user_id = (select auth.uid()) or (select app.is_staff())
         or community_id = any ((select app.administered_communities())::uuid[]));
create policy learning_quiz_attempts_read on public.learning_quiz_attempts for select to authenticated
  using (user_id = (select auth.uid()) or (select app.is_staff())
         or community_id = any ((select app.administered_communities())::uuid[]));

-- ---------------------------------------------------------------------------------------------------
-- Derived progress. Security invoker: they read what row level security shows the caller (the
-- definer functions below call them as the owner).
-- ---------------------------------------------------------------------------------------------------

-- A WOD's or BLOCK's pages and how many of them the user has completed.
create or replace function app.item_progress(p_user uuid, p_item uuid, out total integer, out completed integer)
language sql stable set search_path = '' as $$
  select count(*)::int, count(c.id)::int
    from public.content_items i
    cross join lateral jsonb_path_query(i.payload, 'lax $.pages[*].id') as page(id)
    left join public.learning_completions c
      on c.user_id = p_user and c.target_type = 'page' and c.target_id = (page.id #>> '{}')::uuid
   where i.id = p_item
$$;

-- A program's items and how many the user has completed: a program item is completed by its own stamp
-- or by a stamp of the whole WOD or BLOCK it names (whenever that was recorded).
create or replace function app.program_progress(p_user uuid, p_program uuid, out total integer, out completed integer)
language sql stable set search_path = '' as $$
  select count(*)::int,
         count(*) filter (where exists (
           select 1 from public.learning_completions c
            where c.user_id = p_user
              and ((c.target_type = 'program_item' and c.target_id = (e.entry ->> 'id')::uuid)
                or (c.target_type = 'wod' and c.target_id = (e.entry ->> 'item_id')::uuid))))::int
    from public.content_items p
    cross join lateral jsonb_path_query(p.payload, 'lax $.sections[*].items[*]') as e(entry)
   where p.id = p_program
$$;

-- ---------------------------------------------------------------------------------------------------
-- Internal helpers (no API role executes them)
-- ---------------------------------------------------------------------------------------------------

-- Whether a published item is granted now, directly, to this user through this community (to the
-- community, a tag they hold there, or them), the community active and the user its member. The
-- learner's rule of app.directly_granted_content_ids, asked about one item and another user (an admin
-- assigning a program must assign only what the learner would see).
create or replace function app.is_granted_to(p_item uuid, p_user uuid, p_community uuid) returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (
    select 1
      from public.content_items i
      join public.content_grants g on g.item_id = i.id and g.community_id = p_community
      join public.memberships m on m.community_id = p_community and m.user_id = p_user
      join public.communities c on c.id = p_community and c.status = 'active'
     where i.id = p_item and i.status = 'published'
       and (g.starts_at is null or g.starts_at <= now()) and (g.ends_at is null or now() < g.ends_at)
       and (g.user_id = p_user
            or (g.user_id is null and g.tag_id is null)
            or exists (select 1 from public.user_tag_assignments a
                        where a.tag_id = g.tag_id and a.user_id = p_user and a.community_id = p_community)))
$$;

create or replace function app.enrollment_json(e public.learning_enrollments) returns jsonb
language sql stable set search_path = '' as $$
  select to_jsonb(e) || jsonb_build_object('progress_total', p.total, 'progress_completed', p.completed)
    from app.program_progress(e.user_id, e.program_id) p
$$;

-- An active enrollment whose program items are all completed becomes completed (once), with its event.
create or replace function app.settle_enrollment(p_enrollment uuid) returns void
language plpgsql security definer set search_path = '' as $$
declare
  e public.learning_enrollments;
  p record;
begin
  select * into e from public.learning_enrollments where id = p_enrollment and status = 'active' for update;
  if not found then
    return;
  end if;
  select * into p from app.program_progress(e.user_id, e.program_id);
  if p.total = 0 or p.completed < p.total then
    return;
  end if;
  update public.learning_enrollments set status = 'completed', completed_at = now()
   where id = e.id returning * into e;
  perform app.send_event('learning.program_completed', jsonb_build_object(
    'user_id', e.user_id, 'community_id', e.community_id, 'program_id', e.program_id,
    'enrollment_id', e.id, 'completed_at', e.completed_at));
end
$$;

-- Record a stamp once; a new one sends its event and what it completes in turn: the last page of a WOD
-- or BLOCK stamps the item, a whole item or a program item settles the user's enrollments it counts for.
-- Returns the stamp and whether it is new.
create or replace function app.stamp_completion(
  p_user uuid, p_community uuid, p_type text, p_target uuid, p_item uuid, p_score numeric, p_time integer,
  out stamp public.learning_completions, out created boolean)
language plpgsql security definer set search_path = '' as $$
declare
  v_progress record;
  v_enrollment uuid;
begin
  -- A user's stamps in one item wait for each other: of two last pages stamped at once, the second sees
  -- the first (committed) and stamps the WOD. Enrollments are settled under their own row lock.
  perform pg_advisory_xact_lock(hashtextextended(p_user::text || p_item::text, 1));
  insert into public.learning_completions (user_id, community_id, target_type, target_id, item_id, score, time_spent_s)
  values (p_user, p_community, p_type, p_target, p_item, p_score, p_time)
  on conflict (user_id, target_type, target_id) do nothing
  returning * into stamp;
  created := found;
  if not created then
    select * into stamp from public.learning_completions
     where user_id = p_user and target_type = p_type and target_id = p_target;
    return;
  end if;
  perform app.send_event('learning.completed', jsonb_build_object(
    'user_id', stamp.user_id, 'community_id', stamp.community_id, 'target_type', stamp.target_type,
    'target_id', stamp.target_id, 'item_id', stamp.item_id, 'score', stamp.score,
    'time_spent_s', stamp.time_spent_s, 'completed_at', stamp.completed_at));
  if p_type = 'page' then
    select * into v_progress from app.item_progress(p_user, p_item);
    if v_progress.completed = v_progress.total then
      perform app.stamp_completion(p_user, p_community, 'wod', p_item, p_item, null, null);
    end if;
  elsif p_type = 'wod' then
    for v_enrollment in
      select e.id from public.learning_enrollments e
        join public.content_references r on r.item_id = e.program_id and r.target_id = p_item
       where e.user_id = p_user and e.status = 'active'
    loop
      perform app.settle_enrollment(v_enrollment);
    end loop;
  elsif p_type = 'program_item' then
    perform app.settle_enrollment(e.id) from public.learning_enrollments e
     where e.user_id = p_user and e.program_id = p_item and e.status = 'active';
  end if;
end
$$;

-- The quiz block of a WOD's or BLOCK's payload, or null.
create or replace function app.quiz_block(p_payload jsonb, p_block uuid) returns jsonb
language sql immutable set search_path = '' as $$
  select b from jsonb_path_query(p_payload, 'lax $.pages[*].blocks[*] ? (@.type == "quiz")') as b
   where b ->> 'id' = p_block::text
   limit 1
$$;

-- Whether one answer is right, by the question's kind: choices as a set, true/false exactly, a short
-- answer trimmed and, unless the question is case sensitive, in any case.
create or replace function app.is_right_answer(p_question jsonb, p_key jsonb, p_given jsonb) returns boolean
language sql immutable set search_path = '' as $$
  select coalesce(case p_question ->> 'kind'
    when 'true_false' then jsonb_typeof(p_given) = 'boolean' and p_given = p_key -> 'answer'
    when 'short_answer' then jsonb_typeof(p_given) = 'string' and exists (
      select 1 from jsonb_array_elements_text(p_key -> 'answer') as a(text)
       where case when (p_question ->> 'case_sensitive')::boolean
                  then btrim(a.text) = btrim(p_given #>> '{}')
                  else lower(btrim(a.text)) = lower(btrim(p_given #>> '{}')) end)
    else jsonb_typeof(p_given) = 'array'
      and (select array_agg(distinct g order by g) from jsonb_array_elements_text(p_given) as g)
        = (select array_agg(distinct k order by k) from jsonb_array_elements_text(p_key -> 'answer') as k)
      and jsonb_array_length(p_given) = (select count(distinct g) from jsonb_array_elements_text(p_given) as g)
  end, false)
$$;

-- ---------------------------------------------------------------------------------------------------
-- Prerequisites: a program, WOD or BLOCK may require others, each at a completion threshold.
-- ---------------------------------------------------------------------------------------------------

create table public.content_prerequisites (
  item_id uuid not null references public.content_items (id) on delete cascade,
  required_id uuid not null references public.content_items (id) on delete cascade,
  threshold smallint not null default 80 check (threshold between 1 and 100),
  primary key (item_id, required_id),
  check (item_id <> required_id)
);
create index content_prerequisites_required_idx on public.content_prerequisites (required_id);

-- Both are programs, WODs or BLOCKs; the required item is its owner's own or platform content; no cycle
-- (an item that requires itself, however indirectly, could never be unlocked).
create or replace function app.guard_prerequisite() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if not exists (
    select 1 from public.content_items i join public.content_items r on r.id = new.required_id
     where i.id = new.item_id and i.type in ('program', 'wod', 'block') and r.type in ('program', 'wod', 'block')
       and (r.community_id is null or r.community_id = i.community_id))
  then
    raise exception 'unknown_prerequisite: % cannot be required by this item', new.required_id using errcode = 'P0001';
  end if;
  if new.item_id = new.required_id or exists (
    with recursive reach (id) as (
      select p.required_id from public.content_prerequisites p where p.item_id = new.required_id
      union
      select p.required_id from reach join public.content_prerequisites p on p.item_id = reach.id)
    select 1 from reach where id = new.item_id)
  then
    raise exception 'prerequisite_cycle: % already requires this item', new.required_id using errcode = 'P0001';
  end if;
  return new;
end
$$;
create trigger content_prerequisites_guard before insert or update on public.content_prerequisites
  for each row execute function app.guard_prerequisite();

alter table public.content_prerequisites enable row level security;
revoke all on public.content_prerequisites from anon, authenticated, public;
grant all on public.content_prerequisites to service_role;
grant select, insert, update, delete on public.content_prerequisites to authenticated;
-- Read by whoever sees the item (a learner must know what unlocks it); written by its editors.
create policy content_prerequisites_read on public.content_prerequisites for select to authenticated
  using (exists (select 1 from public.content_items i where i.id = item_id));
create policy content_prerequisites_write on public.content_prerequisites for all to authenticated
  using ((select app.has_staff_role(array['super_admin', 'manager'])) or app.administers_content_item(item_id))
  with check ((select app.has_staff_role(array['super_admin', 'manager'])) or app.administers_content_item(item_id));

-- How far the user is through an item, in percent: a program by its items, a WOD or BLOCK by its pages
-- (100 once the whole item is stamped). Security invoker, like the progress it is made of.
create or replace function app.completion_percent(p_user uuid, p_item uuid) returns numeric
language sql stable set search_path = '' as $$
  select coalesce((
    select case
      when i.type = 'program' then (select 100.0 * p.completed / nullif(p.total, 0) from app.program_progress(p_user, i.id) p)
      when exists (select 1 from public.learning_completions c
                    where c.user_id = p_user and c.target_type = 'wod' and c.target_id = i.id) then 100
      else (select 100.0 * p.completed / nullif(p.total, 0) from app.item_progress(p_user, i.id) p)
    end
    from public.content_items i where i.id = p_item), 0)
$$;

-- The item's prerequisites and how far the user is through each. Security invoker.
create or replace function app.prerequisites_of(p_user uuid, p_item uuid)
returns table (required_id uuid, threshold integer, percent numeric, is_met boolean)
language sql stable set search_path = '' as $$
  select p.required_id, p.threshold::int, round(pc.percent, 1), pc.percent >= p.threshold
    from public.content_prerequisites p
    cross join lateral (select app.completion_percent(p_user, p.required_id) as percent) pc
   where p.item_id = p_item
   order by p.required_id
$$;

-- The prerequisites the user has not met, as the refusal names them; null when there are none.
create or replace function app.unmet_prerequisites(p_user uuid, p_item uuid) returns jsonb
language sql stable set search_path = '' as $$
  select jsonb_agg(jsonb_build_object('item_id', u.required_id, 'threshold', u.threshold, 'percent', u.percent))
    from app.prerequisites_of(p_user, p_item) u where not u.is_met
$$;

-- ---------------------------------------------------------------------------------------------------
-- What the API roles call. Each checks its caller and answers {"outcome": …}; the functions turn an
-- outcome other than "ok" into the matching problem.
-- ---------------------------------------------------------------------------------------------------

-- Enrol users in a program through one community: the caller themself ('self'), or members chosen by
-- the community's admin or a staff writer ('admin'). Concurrent enrolments wait on the program's row, so
-- the capacity (enrollments not dropped) holds; past the deadline nobody is enrolled. All or nothing.
-- Already enrolled users are left as they are; a dropped enrollment is taken up again.
create or replace function app.enroll(p_program uuid, p_community uuid, p_users uuid[], p_source text)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  me uuid := auth.uid();
  v_payload jsonb;
  v_refused uuid[];
  v_taken integer;
  v_new uuid[];
  v_capacity integer;
  v_row public.learning_enrollments;
  v_rows jsonb := '[]';
  v_locked jsonb;
begin
  if me is null or p_source not in ('self', 'admin') or coalesce(cardinality(p_users), 0) = 0 then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  if p_source = 'self' then
    if p_users <> array[me] or not app.is_granted_to(p_program, me, p_community) then
      return jsonb_build_object('outcome', 'not_found');
    end if;
  else
    if not (app.is_admin_of(p_community) or app.has_staff_role(array['super_admin', 'manager'])) then
      return jsonb_build_object('outcome', 'forbidden');
    end if;
    select array_agg(u) into v_refused from unnest(p_users) as u
     where not exists (select 1 from public.memberships m where m.community_id = p_community and m.user_id = u);
    if v_refused is not null then
      return jsonb_build_object('outcome', 'not_a_member', 'user_ids', to_jsonb(v_refused));
    end if;
    select array_agg(u) into v_refused from unnest(p_users) as u
     where not app.is_granted_to(p_program, u, p_community);
    if v_refused is not null then
      if not exists (select 1 from public.content_grants g where g.item_id = p_program and g.community_id = p_community) then
        return jsonb_build_object('outcome', 'not_found');
      end if;
      return jsonb_build_object('outcome', 'not_granted', 'user_ids', to_jsonb(v_refused));
    end if;
  end if;
  select jsonb_agg(jsonb_build_object('user_id', u, 'missing', app.unmet_prerequisites(u, p_program)))
    into v_locked
    from unnest(p_users) as u
   where app.unmet_prerequisites(u, p_program) is not null
     and not exists (select 1 from public.learning_enrollments e
                      where e.program_id = p_program and e.user_id = u and e.status <> 'dropped');
  if v_locked is not null then
    return jsonb_build_object('outcome', 'prerequisites_unmet', 'locked', v_locked);
  end if;
  -- No key update: enrollments' and completions' foreign key checks (key share) need not wait for it.
  select i.payload into v_payload from public.content_items i
   where i.id = p_program and i.type = 'program' for no key update;
  if not found then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  select array_agg(u) into v_new from unnest(p_users) as u
   where not exists (select 1 from public.learning_enrollments e
                      where e.program_id = p_program and e.user_id = u and e.status <> 'dropped');
  if v_new is not null then
    if (v_payload ->> 'enrollment_deadline')::timestamptz < now() then
      return jsonb_build_object('outcome', 'enrollment_closed');
    end if;
    v_capacity := (v_payload ->> 'capacity')::integer;
    select count(*) into v_taken from public.learning_enrollments e
     where e.program_id = p_program and e.status <> 'dropped';
    if v_capacity is not null and v_taken + cardinality(v_new) > v_capacity then
      return jsonb_build_object('outcome', 'capacity_reached', 'capacity', v_capacity,
                                'available', greatest(v_capacity - v_taken, 0));
    end if;
    for v_row in
      insert into public.learning_enrollments as t (community_id, user_id, program_id, source, enrolled_by)
      select p_community, u, p_program, p_source, me from unnest(v_new) as u
      on conflict (user_id, program_id) do update
        set community_id = excluded.community_id, status = 'active', source = excluded.source,
            enrolled_by = excluded.enrolled_by, enrolled_at = now(), dropped_at = null, completed_at = null
        where t.status = 'dropped'
      returning *
    loop
      perform app.send_event('learning.enrolled', jsonb_build_object(
        'user_id', v_row.user_id, 'community_id', v_row.community_id, 'program_id', v_row.program_id,
        'enrollment_id', v_row.id, 'source', v_row.source, 'enrolled_at', v_row.enrolled_at));
      perform app.settle_enrollment(v_row.id);
    end loop;
  end if;
  select coalesce(jsonb_agg(app.enrollment_json(e) || jsonb_build_object('is_new', e.user_id = any (coalesce(v_new, '{}')))
                            order by e.user_id), '[]')
    into v_rows
    from public.learning_enrollments e where e.program_id = p_program and e.user_id = any (p_users);
  return jsonb_build_object('outcome', 'ok', 'enrollments', v_rows);
end
$$;

-- Drop an active enrollment: its learner, the community's admin or a staff writer.
create or replace function app.drop_enrollment(p_enrollment uuid) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  e public.learning_enrollments;
  v_before text;
begin
  select * into e from public.learning_enrollments where id = p_enrollment for update;
  if not found or not (e.user_id = auth.uid() or app.is_staff() or app.is_admin_of(e.community_id)) then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  if not (e.user_id = auth.uid() or app.is_admin_of(e.community_id)
          or app.has_staff_role(array['super_admin', 'manager'])) then
    return jsonb_build_object('outcome', 'forbidden');
  end if;
  v_before := e.status;
  if e.status = 'completed' then
    return jsonb_build_object('outcome', 'enrollment_completed');
  end if;
  if e.status = 'active' then
    update public.learning_enrollments set status = 'dropped', dropped_at = now() where id = e.id returning * into e;
  end if;
  return jsonb_build_object('outcome', 'ok', 'before', v_before, 'enrollment', app.enrollment_json(e));
end
$$;

-- Record the caller's completion of a target they can see through the community: a block or page of a
-- WOD or BLOCK, the WOD or BLOCK itself ('wod'), or an item of a program.
create or replace function app.record_completion(
  p_community uuid, p_type text, p_target uuid, p_item uuid, p_score numeric, p_time integer)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  me uuid := auth.uid();
  v_item public.content_items;
  v_known boolean;
  v_missing jsonb;
  r record;
begin
  select i.* into v_item from public.content_items i
   where i.id = coalesce(p_item, p_target) and i.status = 'published'
     and i.id = any (app.granted_content_ids(p_community));
  if me is null or not found then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  v_known := case p_type
    when 'wod' then v_item.type in ('wod', 'block') and v_item.id = p_target
    when 'page' then v_item.type in ('wod', 'block')
      and jsonb_path_exists(v_item.payload, 'lax $.pages[*] ? (@.id == $t)', jsonb_build_object('t', p_target))
    when 'block' then v_item.type in ('wod', 'block')
      and jsonb_path_exists(v_item.payload, 'lax $.pages[*].blocks[*] ? (@.id == $t)', jsonb_build_object('t', p_target))
    when 'program_item' then v_item.type = 'program'
      and jsonb_path_exists(v_item.payload, 'lax $.sections[*].items[*] ? (@.id == $t)', jsonb_build_object('t', p_target))
    else false end;
  if not v_known then
    return jsonb_build_object('outcome', 'unknown_target');
  end if;
  -- A quiz's block is completed by passing the quiz, with the score the server gave it.
  if p_type = 'block' and app.quiz_block(v_item.payload, p_target) is not null then
    return jsonb_build_object('outcome', 'quiz_completed_by_passing');
  end if;
  v_missing := app.unmet_prerequisites(me, v_item.id);
  if v_missing is not null and not exists (
    select 1 from public.learning_completions c where c.user_id = me and c.target_type = p_type and c.target_id = p_target)
  then
    return jsonb_build_object('outcome', 'prerequisites_unmet', 'missing', v_missing);
  end if;
  select * into r from app.stamp_completion(me, p_community, p_type, p_target, v_item.id, p_score, p_time);
  return jsonb_build_object('outcome', 'ok', 'created', r.created, 'completion', to_jsonb(r.stamp));
end
$$;

-- Start (or resume) the caller's attempt at a quiz block of a WOD or BLOCK they can see through the
-- community. An open attempt past its time limit is expired first; the retake rule counts every attempt.
create or replace function app.start_quiz_attempt(p_community uuid, p_item uuid, p_block uuid) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  me uuid := auth.uid();
  v_quiz jsonb;
  v_limit integer;
  v_count integer;
  v_missing jsonb;
  a public.learning_quiz_attempts;
begin
  select app.quiz_block(i.payload, p_block) into v_quiz from public.content_items i
   where i.id = p_item and i.status = 'published' and i.type in ('wod', 'block')
     and i.id = any (app.granted_content_ids(p_community));
  if me is null or v_quiz is null then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  v_missing := app.unmet_prerequisites(me, p_item);
  if v_missing is not null then
    return jsonb_build_object('outcome', 'prerequisites_unmet', 'missing', v_missing);
  end if;
  -- One caller's attempts at one quiz are numbered and counted one at a time.
  perform pg_advisory_xact_lock(hashtextextended(me::text || p_item::text || p_block::text, 0));
  update public.learning_quiz_attempts set status = 'expired'
   where user_id = me and item_id = p_item and block_id = p_block and status = 'open' and deadline < now();
  select * into a from public.learning_quiz_attempts
   where user_id = me and item_id = p_item and block_id = p_block and status = 'open';
  if found then
    return jsonb_build_object('outcome', 'ok', 'created', false, 'attempt', to_jsonb(a));
  end if;
  select count(*) into v_count from public.learning_quiz_attempts
   where user_id = me and item_id = p_item and block_id = p_block;
  if v_count > 0 and not coalesce((v_quiz #>> '{retake,allowed}')::boolean, true) then
    return jsonb_build_object('outcome', 'retake_not_allowed');
  end if;
  if v_count >= coalesce((v_quiz #>> '{retake,max_attempts}')::integer, 2147483647) then
    return jsonb_build_object('outcome', 'attempts_exhausted', 'max_attempts', v_count);
  end if;
  v_limit := (v_quiz ->> 'time_limit_seconds')::integer;
  insert into public.learning_quiz_attempts (user_id, community_id, item_id, block_id, number, deadline)
  values (me, p_community, p_item, p_block, v_count + 1, now() + make_interval(secs => v_limit))
  returning * into a;
  return jsonb_build_object('outcome', 'ok', 'created', true, 'attempt', to_jsonb(a));
end
$$;

-- Submit the caller's open attempt: scored here against the quiz's keys, stored with each question's
-- result and explanation, announced; a pass stamps the quiz block as completed with its score. Past
-- the time limit (5 seconds of grace for the network) nothing is scored.
create or replace function app.submit_quiz_attempt(p_attempt uuid, p_answers jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  a public.learning_quiz_attempts;
  v_quiz jsonb;
  v_keys jsonb;
  v_results jsonb;
  v_right integer;
  v_total integer;
  v_score numeric;
begin
  select * into a from public.learning_quiz_attempts where id = p_attempt and user_id = auth.uid() for update;
  if not found then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  if a.status <> 'open' then
    return jsonb_build_object('outcome', case a.status when 'submitted' then 'attempt_submitted' else 'quiz_time_expired' end);
  end if;
  if a.deadline + interval '5 seconds' < now() then
    return jsonb_build_object('outcome', 'quiz_time_expired');
  end if;
  select app.quiz_block(i.payload, a.block_id), k.keys -> a.block_id::text into v_quiz, v_keys
    from public.content_items i left join public.content_item_keys k on k.item_id = i.id
   where i.id = a.item_id and i.status = 'published' and i.id = any (app.granted_content_ids(a.community_id));
  if v_quiz is null then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  select jsonb_object_agg(q ->> 'id', jsonb_build_object(
           'correct', app.is_right_answer(q, v_keys -> (q ->> 'id'), p_answers -> (q ->> 'id')),
           'explanation', coalesce(v_keys #>> array[q ->> 'id', 'explanation'], ''))),
         count(*) filter (where app.is_right_answer(q, v_keys -> (q ->> 'id'), p_answers -> (q ->> 'id'))),
         count(*) filter (where v_keys ? (q ->> 'id'))
    into v_results, v_right, v_total
    from jsonb_array_elements(v_quiz -> 'questions') as q;
  if v_keys is null or v_total < jsonb_array_length(v_quiz -> 'questions') then
    return jsonb_build_object('outcome', 'quiz_unscorable');
  end if;
  v_score := round(100.0 * v_right / v_total, 2);
  update public.learning_quiz_attempts
     set status = 'submitted', submitted_at = now(), answers = p_answers, score = v_score,
         passed = v_score >= coalesce((v_quiz ->> 'passing_score')::numeric, 70), results = v_results
   where id = a.id returning * into a;
  perform app.send_event('learning.quiz_attempted', jsonb_build_object(
    'user_id', a.user_id, 'community_id', a.community_id, 'item_id', a.item_id, 'block_id', a.block_id,
    'attempt_id', a.id, 'score', a.score, 'passed', a.passed, 'submitted_at', a.submitted_at));
  if a.passed then
    perform app.stamp_completion(a.user_id, a.community_id, 'block', a.block_id, a.item_id, a.score,
                                 greatest(0, least(604800, extract(epoch from a.submitted_at - a.started_at)::integer)));
  end if;
  return jsonb_build_object('outcome', 'ok', 'attempt', to_jsonb(a));
end
$$;

revoke all on function app.item_progress(uuid, uuid), app.program_progress(uuid, uuid),
  app.is_granted_to(uuid, uuid, uuid), app.enrollment_json(public.learning_enrollments),
  app.settle_enrollment(uuid), app.stamp_completion(uuid, uuid, text, uuid, uuid, numeric, integer),
  app.quiz_block(jsonb, uuid), app.is_right_answer(jsonb, jsonb, jsonb),
  app.enroll(uuid, uuid, uuid[], text), app.drop_enrollment(uuid),
  app.record_completion(uuid, text, uuid, uuid, numeric, integer),
  app.start_quiz_attempt(uuid, uuid, uuid), app.submit_quiz_attempt(uuid, jsonb),
  app.guard_prerequisite(), app.completion_percent(uuid, uuid), app.prerequisites_of(uuid, uuid),
  app.unmet_prerequisites(uuid, uuid)
  from public, anon, authenticated;
grant execute on function app.item_progress(uuid, uuid), app.program_progress(uuid, uuid),
  app.completion_percent(uuid, uuid), app.prerequisites_of(uuid, uuid), app.unmet_prerequisites(uuid, uuid),
  app.enroll(uuid, uuid, uuid[], text), app.drop_enrollment(uuid),
  app.record_completion(uuid, text, uuid, uuid, numeric, integer),
  app.start_quiz_attempt(uuid, uuid, uuid), app.submit_quiz_attempt(uuid, jsonb)
  to authenticated, service_role;
