-- study only: hit + set-up + principal in one statement
create or replace function app.open_me(p_key text, p_cls text, p_window integer, p_claims text, p_role text, p_timeout text, p_user uuid)
returns table (hits integer, reset_s integer, user_id uuid, email text, first_name text, last_name text, avatar_url text, timezone text, status text,
  last_active_at timestamptz, created_at timestamptz, updated_at timestamptz, has_profile boolean, staff_role text, memberships jsonb)
language plpgsql volatile set search_path = '' as $$
declare h record;
begin
  select * into h from app.rate_hit(p_key, p_cls, p_window);
  return query select h.hits, h.reset_s, o.* from app.open_request(p_claims, p_role, p_timeout, p_user) o;
end $$;
