-- Integrations: what provider webhooks bring in (video transcripts, billing subscriptions).
--
-- Both tables are written only by the event worker (service_role) from verified webhook events; no API
-- role may write them. Row level security is on for both, as for every table.

-- ---------------------------------------------------------------------------------------------------
-- Video transcripts, keyed by the provider's own video id. Content items do not exist yet; the content
-- context will pick a transcript up by (platform, provider video id) when it stores a video item.
-- ---------------------------------------------------------------------------------------------------

create table app.video_transcripts (
  platform text not null check (platform in ('youtube', 'vimeo', 'other')),
  provider_video_id text not null check (char_length(provider_video_id) between 1 and 255),
  language text not null check (char_length(language) between 2 and 35),
  transcript text not null,
  received_at timestamptz not null,
  primary key (platform, provider_video_id)
);

alter table app.video_transcripts enable row level security;
revoke all on app.video_transcripts from anon, authenticated, public;
grant select, insert, update, delete on app.video_transcripts to service_role;

-- ---------------------------------------------------------------------------------------------------
-- A community's billing subscription (plan, seats, status), mirrored from Stripe subscription events.
-- `provider_event_created` is the Stripe event's `created` time of the event the row reflects: an older
-- event delivered after a newer one must not overwrite it (Stripe does not guarantee order).
-- ---------------------------------------------------------------------------------------------------

create table public.community_subscriptions (
  community_id uuid primary key references public.communities (id) on delete cascade,
  provider text not null default 'stripe' check (provider = 'stripe'),
  customer_id text not null check (char_length(customer_id) between 1 and 255),
  subscription_id text not null check (char_length(subscription_id) between 1 and 255),
  plan text not null check (char_length(plan) between 1 and 255),
  seats integer not null check (seats >= 0),
  status text not null check (status ~ '^[a-z_]{1,40}$'),
  current_period_end timestamptz,
  provider_event_id text not null check (char_length(provider_event_id) between 1 and 255),
  provider_event_created timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- The policy filters by community_id, which the primary key indexes. Support looks rows up by Stripe id.
create index community_subscriptions_subscription_idx on public.community_subscriptions (provider, subscription_id);
create index community_subscriptions_customer_idx on public.community_subscriptions (provider, customer_id);
create trigger community_subscriptions_touch before update on public.community_subscriptions
  for each row execute function app.touch_updated_at();

alter table public.community_subscriptions enable row level security;
-- Supabase's default privileges grant everything to the API roles: take it all back first.
revoke all on public.community_subscriptions from anon, authenticated, public;
grant select, insert, update, delete on public.community_subscriptions to service_role;
grant select on public.community_subscriptions to authenticated;

-- Staff read every community's subscription; a community admin reads their own community's.
create policy community_subscriptions_read on public.community_subscriptions for select to authenticated
  using ((select app.is_staff()) or app.is_admin_of(community_id));
