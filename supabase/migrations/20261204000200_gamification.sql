-- Gamification (issue 13): activity days and streaks, the achievement catalogue, awards and leaderboards.
--
-- Everything a learner earns is written by the worker from the learning events (the contract between
-- the two learning slices: learning.completed, learning.quiz_attempted, learning.program_completed,
-- learning.enrolled). This slice never reads the progress slice's tables: it keeps its own facts
-- (app.learning_facts, keyed by what was done, so a repeated fact counts once) and activity days
-- (app.activity_days, in the learner's time zone). No API role writes any of it; learners read their
-- own streak and awards, community admins and staff the catalogue they manage.

-- ---------------------------------------------------------------------------------------------------
-- The learner's day: the calendar date of a moment in their time zone (profiles.timezone, IANA).
-- A zone Postgres does not know counts as UTC rather than failing the event. Pure (it reads no table):
-- a learner's streak read runs it as the caller.
-- ---------------------------------------------------------------------------------------------------
create or replace function app.local_day(p_timezone text, p_at timestamptz) returns date
language plpgsql stable set search_path = '' as $$
begin
  return (p_at at time zone p_timezone)::date;
exception when invalid_parameter_value then
  return (p_at at time zone 'UTC')::date;
end
$$;
revoke all on function app.local_day(text, timestamptz) from public, anon;
grant execute on function app.local_day(text, timestamptz) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------
-- What the worker keeps from the events (no API role reaches these).
-- ---------------------------------------------------------------------------------------------------
create table app.learning_facts (
  user_id uuid not null references public.profiles (id) on delete cascade,
  kind text not null check (kind in ('block', 'page', 'wod', 'program_item', 'program', 'quiz')),
  subject_id uuid not null,  -- the completed target, the program, or the quiz attempt
  community_id uuid not null references public.communities (id) on delete cascade,
  score numeric(5, 2) check (score between 0 and 100),
  happened_at timestamptz not null,
  primary key (user_id, kind, subject_id)
);
create index learning_facts_user_community_idx on app.learning_facts (user_id, community_id, kind);

create table app.activity_days (
  user_id uuid not null references public.profiles (id) on delete cascade,
  day date not null,
  primary key (user_id, day)
);

alter table app.learning_facts enable row level security;  -- no policy: only the service role reads them
alter table app.activity_days enable row level security;
revoke all on app.learning_facts, app.activity_days from public, anon, authenticated;
grant all on app.learning_facts, app.activity_days to service_role;

-- ---------------------------------------------------------------------------------------------------
-- Streaks: one row per learner, also the lock that serialises the worker's handling of their events.
-- current_days is the run ending on last_active_day while that day is today or yesterday (their time),
-- else 0: the worker sets it on each activity, the streaks schedule resets it after a missed day.
-- ---------------------------------------------------------------------------------------------------
create table public.learning_streaks (
  user_id uuid primary key references public.profiles (id) on delete cascade,
  current_days int not null default 0 check (current_days >= 0),
  longest_days int not null default 0 check (longest_days >= current_days),
  last_active_day date,
  updated_at timestamptz not null default now()
);
create index learning_streaks_running_idx on public.learning_streaks (last_active_day) where current_days > 0;

alter table public.learning_streaks enable row level security;
revoke all on public.learning_streaks from public, anon, authenticated;
grant all on public.learning_streaks to service_role;
grant select on public.learning_streaks to authenticated;
create policy learning_streaks_read on public.learning_streaks for select to authenticated
  using (user_id = (select auth.uid()) or (select app.is_staff()) or app.is_managed_user(user_id));

-- ---------------------------------------------------------------------------------------------------
-- The achievement catalogue: global entries (no community; staff who may write manage them) and a
-- community's own (its admins too). Criteria are fixed at creation (awards were judged against them);
-- names, points and whether an entry is still awarded may change. Entries are deactivated, not deleted.
-- ---------------------------------------------------------------------------------------------------
create table public.achievements (
  id uuid primary key default gen_random_uuid(),
  community_id uuid references public.communities (id) on delete cascade,
  code text not null check (code ~ '^[a-z][a-z0-9_]{1,49}$'),
  name text not null check (char_length(name) between 1 and 100 and name !~ '^[-=+@\t\r]'),
  description text not null default '' check (char_length(description) <= 500 and description !~ '^[-=+@\t\r]'),
  tier text not null check (tier in ('bronze', 'silver', 'gold', 'platinum')),
  points int not null check (points between 0 and 10000),
  criterion text not null check (criterion in ('completions', 'streak', 'score')),
  target_type text check (target_type in ('block', 'page', 'wod', 'program_item', 'program', 'quiz')),
  threshold int not null check (threshold between 1 and 100000),
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique nulls not distinct (community_id, code),
  check ((criterion = 'streak') = (target_type is null)),
  check (criterion <> 'score' or threshold <= 100),
  check (criterion <> 'completions' or target_type <> 'quiz')
);
create index achievements_community_idx on public.achievements (community_id);

alter table public.achievements enable row level security;
revoke all on public.achievements from public, anon, authenticated;
grant all on public.achievements to service_role;
grant select, insert on public.achievements to authenticated;
grant update (name, description, tier, points, is_active, updated_at) on public.achievements to authenticated;
create policy achievements_read on public.achievements for select to authenticated
  using (community_id is null or (select app.is_staff()) or app.is_member_of(community_id));
create policy achievements_insert on public.achievements for insert to authenticated
  with check ((select app.has_staff_role(array['super_admin', 'manager'])) or app.is_admin_of(community_id));
create policy achievements_update on public.achievements for update to authenticated
  using ((select app.has_staff_role(array['super_admin', 'manager'])) or app.is_admin_of(community_id));

insert into public.achievements (code, name, description, tier, points, criterion, target_type, threshold) values
  ('first_steps', 'First Steps', 'Complete your first WOD.', 'bronze', 10, 'completions', 'wod', 1),
  ('wod_warrior', 'WOD Warrior', 'Complete 10 WODs.', 'silver', 50, 'completions', 'wod', 10),
  ('week_warrior', 'Week Warrior', 'Be active 7 days in a row.', 'silver', 30, 'streak', null, 7),
  ('month_master', 'Month Master', 'Be active 30 days in a row.', 'gold', 150, 'streak', null, 30),
  ('program_graduate', 'Program Graduate', 'Complete a program.', 'gold', 100, 'completions', 'program', 1);

-- ---------------------------------------------------------------------------------------------------
-- Awards: each achievement at most once per learner (the unique key decides under concurrency and
-- redelivery). The points are the entry's at the time, and count for the community whose event earned
-- them (a global achievement too), which is what that community's leaderboard sums.
-- ---------------------------------------------------------------------------------------------------
create table public.user_achievements (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  achievement_id uuid not null references public.achievements (id) on delete cascade,
  community_id uuid not null references public.communities (id) on delete cascade,
  points int not null check (points >= 0),
  awarded_at timestamptz not null default now(),
  unique (user_id, achievement_id)
);
create index user_achievements_leaderboard_idx on public.user_achievements (community_id, awarded_at);
create index user_achievements_achievement_idx on public.user_achievements (achievement_id);

-- A community's achievement is earned in that community only: the award stays in the entry's tenant.
create or replace function app.guard_award_community() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if exists (select 1 from public.achievements a
              where a.id = new.achievement_id and a.community_id is distinct from new.community_id
                and a.community_id is not null) then
    raise exception 'award_community_mismatch: an achievement of one community cannot be earned in another'
      using errcode = 'P0001';
  end if;
  return new;
end
$$;
create trigger user_achievements_community before insert or update on public.user_achievements
  for each row execute function app.guard_award_community();
revoke all on function app.guard_award_community() from public, anon, authenticated;

alter table public.user_achievements enable row level security;
revoke all on public.user_achievements from public, anon, authenticated;
grant all on public.user_achievements to service_role;
grant select on public.user_achievements to authenticated;
create policy user_achievements_read on public.user_achievements for select to authenticated
  using (user_id = (select auth.uid()) or (select app.is_staff()) or app.is_admin_of(community_id));

-- ---------------------------------------------------------------------------------------------------
-- A community's leaderboard: points per current member since a moment (null: all time), best first.
-- Only the community's members (of an active community) and staff get rows; anyone else gets none.
-- ---------------------------------------------------------------------------------------------------
create or replace function app.community_leaderboard(p_community uuid, p_since timestamptz, p_limit int)
returns table (
  rank bigint, user_id uuid, first_name text, last_name text, avatar_url text, points bigint, awards bigint
)
language sql stable security definer set search_path = '' as $$
  with totals as (
    select u.user_id, sum(u.points)::bigint as points, count(*)::bigint as awards,
           max(u.awarded_at) as last_award
      from public.user_achievements u
      join public.memberships m on m.community_id = u.community_id and m.user_id = u.user_id
      join public.profiles p on p.id = u.user_id and p.status = 'active'
     where u.community_id = p_community
       and (p_since is null or u.awarded_at >= p_since)
       and (app.is_member_of(p_community) or app.is_staff())
     group by u.user_id
  )
  select rank() over (order by t.points desc), t.user_id, p.first_name, p.last_name, p.avatar_url,
         t.points, t.awards
    from totals t join public.profiles p on p.id = t.user_id
   order by t.points desc, t.last_award, t.user_id
   limit least(greatest(p_limit, 1), 100)
$$;
revoke all on function app.community_leaderboard(uuid, timestamptz, int) from public, anon;
grant execute on function app.community_leaderboard(uuid, timestamptz, int) to authenticated, service_role;
