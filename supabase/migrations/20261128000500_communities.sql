-- Communities administration: every community has its AI settings row, the AI token quota is a
-- platform field, and a community's own provider key is written only through two checked functions
-- that run in the caller's transaction (app.community_secrets stays unreadable to every API role).

-- ---------------------------------------------------------------------------------------------------
-- AI settings: one row per community, created by the database so no code path (nor the seed) forgets it.
-- ---------------------------------------------------------------------------------------------------

alter table public.community_ai_settings
  add column own_key_provider text check (own_key_provider in ('openai', 'anthropic', 'gemini')),
  add constraint community_ai_settings_own_key_consistent check (has_own_key = (own_key_provider is not null));

create or replace function app.create_community_ai_settings() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.community_ai_settings (community_id) values (new.id) on conflict do nothing;
  return new;
end
$$;
create trigger communities_create_ai_settings after insert on public.communities
  for each row execute function app.create_community_ai_settings();

insert into public.community_ai_settings (community_id)
  select c.id from public.communities c
on conflict do nothing;

-- The API role edits provider, model and quota; has_own_key and own_key_provider change only through
-- the key functions below, so a flag can never claim a key that is not there. Rows come from the
-- trigger above, so the API role inserts none. (Revoking the table privilege revokes column ones too.)
revoke insert, update on public.community_ai_settings from authenticated;
grant update (default_provider, default_model, monthly_token_quota) on public.community_ai_settings
  to authenticated;

-- The monthly token quota is a platform setting: a community admin may pick provider and model only.
create or replace function app.guard_community_ai_quota() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if new.monthly_token_quota is distinct from old.monthly_token_quota and auth.uid() is not null
     and not app.has_staff_role(array['super_admin', 'manager']) then
    raise exception 'only platform staff may change the AI token quota' using errcode = 'insufficient_privilege';
  end if;
  return new;
end
$$;
create trigger community_ai_settings_guard_quota before update of monthly_token_quota
  on public.community_ai_settings
  for each row execute function app.guard_community_ai_quota();

-- ---------------------------------------------------------------------------------------------------
-- A community's own provider key: the ciphertext (encrypted by the application, bound to the community
-- id) is written by a super admin or by the community's own admin. Managers do not handle provider keys.
-- ---------------------------------------------------------------------------------------------------

create or replace function app.set_community_provider_key(p_community uuid, p_provider text, p_ciphertext bytea)
returns void
language plpgsql security definer set search_path = '' as $$
begin
  if not (app.has_staff_role(array['super_admin']) or app.is_admin_of(p_community)) then
    raise exception 'only a super admin or the community''s admin may set its provider key'
      using errcode = 'insufficient_privilege';
  end if;
  if p_provider is null or p_provider not in ('openai', 'anthropic', 'gemini') then
    raise exception 'unknown key provider' using errcode = 'check_violation';
  end if;
  if p_ciphertext is null or octet_length(p_ciphertext) < 29 then
    raise exception 'not a ciphertext' using errcode = 'check_violation';
  end if;
  insert into app.community_secrets (community_id, provider, ciphertext)
    values (p_community, p_provider, p_ciphertext)
  on conflict (community_id) do update
    set provider = excluded.provider, ciphertext = excluded.ciphertext, updated_at = now();
  update public.community_ai_settings
     set has_own_key = true, own_key_provider = p_provider
   where community_id = p_community;
end
$$;

create or replace function app.clear_community_provider_key(p_community uuid) returns void
language plpgsql security definer set search_path = '' as $$
begin
  if not (app.has_staff_role(array['super_admin']) or app.is_admin_of(p_community)) then
    raise exception 'only a super admin or the community''s admin may remove its provider key'
      using errcode = 'insufficient_privilege';
  end if;
  delete from app.community_secrets where community_id = p_community;
  update public.community_ai_settings
     set has_own_key = false, own_key_provider = null
   where community_id = p_community;
end
$$;

revoke all on function app.set_community_provider_key(uuid, text, bytea), app.clear_community_provider_key(uuid)
  from public;
grant execute on function app.set_community_provider_key(uuid, text, bytea), app.clear_community_provider_key(uuid)
  to authenticated;
