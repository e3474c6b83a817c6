-- Analytics and reports (issue 14): daily rollups per community, per learner and per content item,
-- the rollup job's cursor, and the weekly digests.
--
-- One scale everywhere: a day is a calendar day in UTC, [00:00, 24:00) UTC, for every community and
-- every learner (streaks count the learner's own day; analytics never does).
--
-- The rollups are derived, never the source: the job rebuilds one day at a time from the durable facts
-- (public.learning_completions, submitted public.learning_quiz_attempts, public.learning_enrollments and
-- the AI ledger public.ai_usage) by deleting the day and inserting it again in one transaction, so a
-- re-run of a day changes nothing and a late fact is picked up by re-running its day. No API role
-- writes a rollup; a community's admins read their community's, staff every community's.

-- ---------------------------------------------------------------------------------------------------
-- Reading the facts by day.
-- ---------------------------------------------------------------------------------------------------
create index if not exists learning_completions_completed_at_idx on public.learning_completions (completed_at);
create index if not exists learning_quiz_attempts_submitted_at_idx on public.learning_quiz_attempts (submitted_at)
  where status = 'submitted';
create index if not exists learning_enrollments_enrolled_at_idx on public.learning_enrollments (enrolled_at);
create index if not exists ai_usage_created_at_idx on public.ai_usage (created_at);

-- ---------------------------------------------------------------------------------------------------
-- Rollups
-- ---------------------------------------------------------------------------------------------------
create table public.analytics_daily (
  community_id uuid not null references public.communities (id) on delete cascade,
  day date not null,
  active_users int not null check (active_users >= 0),
  completions int not null check (completions >= 0),
  time_spent_s bigint not null check (time_spent_s >= 0),
  quiz_attempts int not null check (quiz_attempts >= 0),
  quiz_score_sum numeric(14, 2) not null check (quiz_score_sum >= 0),
  ai_messages int not null check (ai_messages >= 0),
  ai_tokens bigint not null check (ai_tokens >= 0),
  ai_cost_usd numeric(14, 6) not null check (ai_cost_usd >= 0),
  primary key (community_id, day)
);
create index analytics_daily_day_idx on public.analytics_daily (day);

create table public.analytics_user_daily (
  community_id uuid not null references public.communities (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  day date not null,
  completions int not null check (completions >= 0),
  time_spent_s bigint not null check (time_spent_s >= 0),
  quiz_attempts int not null check (quiz_attempts >= 0),
  quiz_score_sum numeric(14, 2) not null check (quiz_score_sum >= 0),
  ai_messages int not null check (ai_messages >= 0),
  ai_tokens bigint not null check (ai_tokens >= 0),
  ai_cost_usd numeric(14, 6) not null check (ai_cost_usd >= 0),
  primary key (community_id, user_id, day)
);
create index analytics_user_daily_community_day_idx on public.analytics_user_daily (community_id, day);
create index analytics_user_daily_day_idx on public.analytics_user_daily (day);

create table public.analytics_content_daily (
  community_id uuid not null references public.communities (id) on delete cascade,
  item_id uuid not null references public.content_items (id) on delete cascade,
  day date not null,
  completions int not null check (completions >= 0),
  time_spent_s bigint not null check (time_spent_s >= 0),
  primary key (community_id, item_id, day)
);
create index analytics_content_daily_community_day_idx on public.analytics_content_daily (community_id, day);
create index analytics_content_daily_day_idx on public.analytics_content_daily (day);

-- The job's cursor: the first day not yet rolled up for good. It moves in the transaction that rebuilt
-- the day before it, so a run that stops resumes at the first day it did not finish.
create table app.analytics_cursor (
  job text primary key check (job in ('rollup')),
  next_day date not null,
  updated_at timestamptz not null default now()
);

-- ---------------------------------------------------------------------------------------------------
-- Weekly digests: one per community and week (Monday to Sunday, UTC), rewritten when the week is run again.
-- ---------------------------------------------------------------------------------------------------
create table public.analytics_digests (
  id uuid primary key default gen_random_uuid(),
  community_id uuid not null references public.communities (id) on delete cascade,
  week_start date not null check (extract(isodow from week_start) = 1),
  body jsonb not null check (octet_length(body::text) <= 200000),
  created_at timestamptz not null default now(),
  unique (community_id, week_start)
);

alter table public.analytics_daily enable row level security;
alter table public.analytics_user_daily enable row level security;
alter table public.analytics_content_daily enable row level security;
alter table public.analytics_digests enable row level security;
alter table app.analytics_cursor enable row level security;  -- no policy: only the service role
revoke all on public.analytics_daily, public.analytics_user_daily, public.analytics_content_daily,
  public.analytics_digests, app.analytics_cursor from public, anon, authenticated;
grant all on public.analytics_daily, public.analytics_user_daily, public.analytics_content_daily,
  public.analytics_digests, app.analytics_cursor to service_role;
grant select on public.analytics_daily, public.analytics_user_daily, public.analytics_content_daily,
  public.analytics_digests to authenticated;

-- Read: a community's admins their community's rows, staff every row; learners none (not even their own).
create policy analytics_daily_read on public.analytics_daily for select to authenticated
  using ((select app.is_staff()) or community_id = any ((select app.administered_communities())::uuid[]));
create policy analytics_user_daily_read on public.analytics_user_daily for select to authenticated
  using ((select app.is_staff()) or community_id = any ((select app.administered_communities())::uuid[]));
create policy analytics_content_daily_read on public.analytics_content_daily for select to authenticated
  using ((select app.is_staff()) or community_id = any ((select app.administered_communities())::uuid[]));
create policy analytics_digests_read on public.analytics_digests for select to authenticated
  using ((select app.is_staff()) or community_id = any ((select app.administered_communities())::uuid[]));
