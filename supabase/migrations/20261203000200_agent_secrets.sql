-- An agent's system prompt and model settings are for its editors only.
--
-- Learners may select a published item's payload through PostgREST, and its `search` column matches the
-- payload's words, so a prompt kept in the payload could be read (or probed word by word) by every
-- learner it is granted to. Like a quiz's answers, the prompt and the model settings live in
-- public.content_item_keys, which only the item's editors read; a chat turn reads them on the server as
-- the platform role, after the caller's own read of the item has shown it is visible and published.

insert into public.content_item_keys as k (item_id, keys)
  select i.id, jsonb_build_object('system_prompt', i.payload -> 'system_prompt',
                                  'model_settings', i.payload -> 'model_settings')
    from public.content_items i
   where i.type = 'ai_agent' and i.payload ? 'system_prompt'
on conflict (item_id) do update set keys = k.keys || excluded.keys;

update public.content_items
   set payload = payload - 'system_prompt' - 'model_settings'
 where type = 'ai_agent' and (payload ? 'system_prompt' or payload ? 'model_settings');

create or replace function app.refuse_agent_secrets_in_payload() returns trigger
language plpgsql set search_path = '' as $$
begin
  if new.payload ? 'system_prompt' or new.payload ? 'model_settings' then
    raise exception 'agent_secrets_in_payload: an agent''s system prompt and model settings belong in content_item_keys'
      using errcode = 'P0001';
  end if;
  return new;
end
$$;
revoke all on function app.refuse_agent_secrets_in_payload() from public, anon, authenticated;

create trigger content_items_agent_secrets before insert or update of payload on public.content_items
  for each row when (new.type = 'ai_agent')
  execute function app.refuse_agent_secrets_in_payload();
