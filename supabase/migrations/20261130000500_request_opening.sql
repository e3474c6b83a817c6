-- Issue 9: a request's opening work as plpgsql functions, whose plans each backend caches.
--
-- Behind Supavisor's transaction pooler nothing can be prepared by the client, so every plain statement is
-- parsed and planned again on every request; planning the principal query alone was ~70 % of Postgres's
-- work per `GET /me`. A plpgsql function's statements are planned once per backend connection (and
-- re-planned when the role they were planned under, or a table they read, changes), whichever client's
-- transaction runs there. Both functions may be executed by the login role only: no API role may count
-- hits, and opening a request is the platform's job.

-- Rate-limit counters need not survive a crash (a window is at most minutes long); unlogged, a hit writes
-- no WAL, so its COMMIT does not wait for a WAL flush on a server with synchronous_commit on.
alter table app.rate_limits set unlogged;

-- One hit for `p_key` in `p_cls`'s fixed window of `p_window` seconds: the hits so far and the seconds
-- until the window resets. Sent in its own BEGIN/COMMIT ahead of the request's transaction (in the same
-- round trip), so that it counts even when the request fails.
create or replace function app.rate_hit(p_key text, p_cls text, p_window integer)
returns table (hits integer, reset_s integer)
language plpgsql volatile
set search_path = ''
as $$
begin
  return query
  insert into app.rate_limits as r (key, limit_class, window_start, hits)
  values (p_key, p_cls, to_timestamp(floor(extract(epoch from now()) / p_window) * p_window), 1)
  on conflict (key, limit_class, window_start) do update set hits = r.hits + 1
  returning r.hits, greatest(1, ceil(extract(epoch from r.window_start - now()) + p_window))::int;
end
$$;
revoke all on function app.rate_hit(text, text, integer) from public, anon, authenticated, service_role;

-- What PostgREST does at BEGIN (the claims and the role, transaction-locally) and, for a signed-in
-- caller, the principal: the caller's profile, staff role and memberships of active communities. This is
-- the principal query's only home. Not SECURITY DEFINER: `set_config('role', …)` is refused inside one,
-- and the principal must be read as the caller, under row level security (it can only ever see the
-- caller's own rows). The role applies to the rest of the function and of the transaction; the statement
-- timeout from the next statement on.
create or replace function app.open_request(p_claims text, p_role text, p_timeout text, p_user uuid)
returns table (
  user_id uuid, email text, first_name text, last_name text, avatar_url text, timezone text, status text,
  last_active_at timestamptz, created_at timestamptz, updated_at timestamptz, has_profile boolean,
  staff_role text, memberships jsonb
)
language plpgsql volatile
set search_path = ''
as $$
begin
  if p_role not in ('anon', 'authenticated', 'service_role') then
    raise exception 'open_request: unknown role %', p_role using errcode = '22023';
  end if;
  perform set_config('request.jwt.claims', p_claims, true), set_config('role', p_role, true),
          set_config('statement_timeout', p_timeout, true);
  if p_user is null then
    return;
  end if;
  return query
  select u.id, p.email, p.first_name, p.last_name, p.avatar_url, p.timezone, p.status,
         p.last_active_at, p.created_at, p.updated_at, p.id is not null,
         (select s.role from public.platform_staff s where s.user_id = u.id),
         coalesce((select jsonb_agg(jsonb_build_object(
                     'community_id', m.community_id, 'name', c.name, 'slug', c.slug, 'role', m.role)
                     order by c.name)
                   from public.memberships m join public.communities c on c.id = m.community_id
                   where m.user_id = u.id and c.status = 'active'), '[]'::jsonb)
  from (select p_user as id) u
  left join public.profiles p on p.id = u.id;
end
$$;
revoke all on function app.open_request(text, text, text, uuid) from public, anon, authenticated, service_role;
