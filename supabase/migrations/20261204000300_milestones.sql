-- Milestones (issue 13, item 4): a program's ordered checkpoints, each covering some of its items at a
-- required score, validated automatically or by the community's admin from a review queue.
--
-- A learner's state is derived from their stamps and quiz scores (app.milestone_score); only what a
-- validation decided is stored (public.learning_milestone_results): a met automatic milestone is
-- 'completed' at once, a met 'review' one waits 'pending' until an admin approves or rejects it. A
-- completed milestone sends `learning.milestone_completed`; the worker may award the milestone's
-- achievement from it. Results are written by the triggers and the checked function below only.

-- A catalogue entry may be earned by completing a milestone: criterion 'milestone', no target type. The
-- catalogue's own evaluation never awards it (no fact has a null kind); the worker awards it from
-- `learning.milestone_completed` to whoever completes a milestone naming it (shared/learning/milestones).
alter table public.achievements drop constraint achievements_criterion_check;
alter table public.achievements add constraint achievements_criterion_check
  check (criterion in ('completions', 'streak', 'score', 'milestone'));
alter table public.achievements drop constraint achievements_check;
alter table public.achievements add constraint achievements_check
  check ((criterion in ('streak', 'milestone')) = (target_type is null));

create table public.learning_milestones (
  id uuid primary key default gen_random_uuid(),
  program_id uuid not null references public.content_items (id) on delete cascade,
  position smallint not null check (position between 1 and 100),
  title text not null check (char_length(title) between 1 and 200 and title !~ '^[-=+@\t\r]'),
  required_score smallint not null default 80 check (required_score between 0 and 100),
  -- Program items (the ids of the entries in the program's sections) this milestone covers.
  item_ids uuid[] not null check (cardinality(item_ids) between 1 and 100),
  validation text not null default 'automatic' check (validation in ('automatic', 'review')),
  achievement_id uuid references public.achievements (id) on delete set null,
  created_at timestamptz not null default now(),
  unique (program_id, position)
);
create index learning_milestones_achievement_idx on public.learning_milestones (achievement_id);

-- The program is a program; every covered id is one of its items; the achievement is global or the
-- program owner's (an award stays in its tenant).
create or replace function app.guard_milestone() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if not exists (
    select 1 from public.content_items p
     where p.id = new.program_id and p.type = 'program'
       and (select bool_and(jsonb_path_exists(p.payload, 'lax $.sections[*].items[*] ? (@.id == $t)',
                                              jsonb_build_object('t', t)))
              from unnest(new.item_ids) as t))
  then
    raise exception 'unknown_milestone_item: a milestone covers items of its program only' using errcode = 'P0001';
  end if;
  if new.achievement_id is not null and not exists (
    select 1 from public.achievements a join public.content_items p on p.id = new.program_id
     where a.id = new.achievement_id and a.criterion = 'milestone'
       and (a.community_id is null or a.community_id = p.community_id))
  then
    raise exception 'unknown_achievement: a milestone awards a milestone achievement, global or its owner''s'
      using errcode = 'P0001';
  end if;
  return new;
end
$$;
create trigger learning_milestones_guard before insert or update on public.learning_milestones
  for each row execute function app.guard_milestone();

alter table public.learning_milestones enable row level security;
revoke all on public.learning_milestones from anon, authenticated, public;
grant all on public.learning_milestones to service_role;
grant select, insert, update, delete on public.learning_milestones to authenticated;
-- Read by whoever sees the program; written by its editors (as its prerequisites).
create policy learning_milestones_read on public.learning_milestones for select to authenticated
  using (exists (select 1 from public.content_items i where i.id = program_id));
create policy learning_milestones_write on public.learning_milestones for all to authenticated
  using ((select app.has_staff_role(array['super_admin', 'manager'])) or app.administers_content_item(program_id))
  with check ((select app.has_staff_role(array['super_admin', 'manager'])) or app.administers_content_item(program_id));

create table public.learning_milestone_results (
  id uuid primary key default gen_random_uuid(),
  milestone_id uuid not null references public.learning_milestones (id) on delete cascade,
  user_id uuid not null,
  community_id uuid not null,
  score numeric(5, 2) not null check (score between 0 and 100),
  status text not null check (status in ('pending', 'completed', 'rejected')),
  met_at timestamptz not null default now(),
  decided_by uuid references public.profiles (id) on delete set null,
  decided_at timestamptz,
  feedback text not null default '' check (char_length(feedback) <= 2000),
  unique (milestone_id, user_id),
  foreign key (community_id, user_id) references public.memberships (community_id, user_id) on delete cascade
);
create index learning_milestone_results_queue_idx on public.learning_milestone_results (community_id, status, met_at);

alter table public.learning_milestone_results enable row level security;
revoke all on public.learning_milestone_results from anon, authenticated, public;
grant all on public.learning_milestone_results to service_role;
grant select on public.learning_milestone_results to authenticated;
create policy learning_milestone_results_read on public.learning_milestone_results for select to authenticated
  using (user_id = (select auth.uid()) or (select app.is_staff())
         or community_id = any ((select app.administered_communities())::uuid[]));

-- How far the user is through a milestone: its covered items, how many they completed (as program
-- progress counts them) and the average score of those. An item's score is its program item stamp's,
-- else the best submitted quiz score in the WOD or BLOCK it names, else 100 (nothing there is scored).
-- Security invoker: it reads what row level security shows the caller.
create or replace function app.milestone_score(p_user uuid, p_milestone uuid,
  out total integer, out completed integer, out score numeric)
language sql stable set search_path = '' as $$
  select count(*)::int, count(s.score)::int, round(avg(s.score), 2)
    from public.learning_milestones m
    join public.content_items p on p.id = m.program_id
    cross join lateral jsonb_path_query(p.payload, 'lax $.sections[*].items[*]') as e(entry)
    left join lateral (
      select coalesce(
               (select max(c.score) from public.learning_completions c
                 where c.user_id = p_user and c.target_type = 'program_item' and c.target_id = (e.entry ->> 'id')::uuid),
               (select max(a.score) from public.learning_quiz_attempts a
                 where a.user_id = p_user and a.item_id = (e.entry ->> 'item_id')::uuid and a.status = 'submitted'),
               100) as score
       where exists (select 1 from public.learning_completions c
                      where c.user_id = p_user
                        and ((c.target_type = 'program_item' and c.target_id = (e.entry ->> 'id')::uuid)
                          or (c.target_type = 'wod' and c.target_id = (e.entry ->> 'item_id')::uuid)))
    ) s on true
   where m.id = p_milestone and (e.entry ->> 'id')::uuid = any (m.item_ids)
$$;

create or replace function app.announce_milestone(r public.learning_milestone_results) returns void
language sql security definer set search_path = '' as $$
  select app.send_event('learning.milestone_completed', jsonb_build_object(
    'user_id', r.user_id, 'community_id', r.community_id, 'milestone_id', r.milestone_id,
    'program_id', (select m.program_id from public.learning_milestones m where m.id = r.milestone_id),
    'score', r.score, 'completed_at', coalesce(r.decided_at, r.met_at)))
$$;

-- Validate the user's milestones a change in this item may have met (those of the item, a program, or of
-- programs naming it, granted to the user through the community): once, as the milestone says.
create or replace function app.settle_milestones(p_user uuid, p_community uuid, p_item uuid) returns void
language plpgsql security definer set search_path = '' as $$
declare
  m public.learning_milestones;
  s record;
  r public.learning_milestone_results;
begin
  for m in
    select ms.* from public.learning_milestones ms join public.content_items p on p.id = ms.program_id
     where (ms.program_id = p_item
            or jsonb_path_exists(p.payload, 'lax $.sections[*].items[*] ? (@.item_id == $i)', jsonb_build_object('i', p_item)))
       and not exists (select 1 from public.learning_milestone_results x where x.milestone_id = ms.id and x.user_id = p_user)
       and app.is_granted_to(ms.program_id, p_user, p_community)
     order by ms.program_id, ms.position
  loop
    select * into s from app.milestone_score(p_user, m.id);
    continue when s.total = 0 or s.completed < s.total or s.score < m.required_score;
    insert into public.learning_milestone_results (milestone_id, user_id, community_id, score, status)
    values (m.id, p_user, p_community, s.score, case m.validation when 'automatic' then 'completed' else 'pending' end)
    on conflict (milestone_id, user_id) do nothing
    returning * into r;
    if found and r.status = 'completed' then
      perform app.announce_milestone(r);
    end if;
  end loop;
end
$$;

create or replace function app.settle_milestones_after() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform app.settle_milestones(new.user_id, new.community_id, new.item_id);
  return null;
end
$$;
-- A new stamp, or a submitted quiz (a retake may raise the score), may meet a milestone.
create trigger learning_completions_milestones after insert on public.learning_completions
  for each row execute function app.settle_milestones_after();
create trigger learning_quiz_attempts_milestones after update of status on public.learning_quiz_attempts
  for each row when (new.status = 'submitted') execute function app.settle_milestones_after();

-- The community's admin (or a staff writer) approves or rejects a pending review, with feedback.
-- Someone who cannot see the result: not_found; its learner (or a staff reader): forbidden.
create or replace function app.decide_milestone_review(p_result uuid, p_approve boolean, p_feedback text)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  me uuid := auth.uid();
  r public.learning_milestone_results;
begin
  select * into r from public.learning_milestone_results where id = p_result for update;
  if me is null or not found or not (r.user_id = me or app.is_staff() or app.is_admin_of(r.community_id)) then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  if not (app.is_admin_of(r.community_id) or app.has_staff_role(array['super_admin', 'manager'])) then
    return jsonb_build_object('outcome', 'forbidden');
  end if;
  if r.status <> 'pending' then
    return jsonb_build_object('outcome', 'review_decided', 'decision', r.status);
  end if;
  update public.learning_milestone_results
     set status = case when p_approve then 'completed' else 'rejected' end, decided_by = me, decided_at = now(),
         feedback = coalesce(p_feedback, '')
   where id = r.id returning * into r;
  if r.status = 'completed' then
    perform app.announce_milestone(r);
  end if;
  return jsonb_build_object('outcome', 'ok', 'result', to_jsonb(r));
end
$$;

revoke all on function app.guard_milestone(), app.milestone_score(uuid, uuid),
  app.announce_milestone(public.learning_milestone_results), app.settle_milestones(uuid, uuid, uuid),
  app.settle_milestones_after(), app.decide_milestone_review(uuid, boolean, text)
  from public, anon, authenticated;
grant execute on function app.milestone_score(uuid, uuid), app.decide_milestone_review(uuid, boolean, text)
  to authenticated, service_role;
