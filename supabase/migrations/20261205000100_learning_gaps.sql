-- Learning gaps (issue 13): milestones edited through the programs function, and the lookup of the
-- milestones a new completion may meet through an index.

-- The programs function renumbers a program's milestones in one statement when one is added, moved or
-- removed: positions stay unique per program, checked at the end of each statement (not row by row,
-- which a renumbering always breaks midway).
alter table public.learning_milestones drop constraint learning_milestones_program_id_position_key;
alter table public.learning_milestones add constraint learning_milestones_program_id_position_key
  unique (program_id, position) deferrable initially immediate;

-- Renumbering does not re-check what a milestone covers or awards: only a change of those does.
drop trigger learning_milestones_guard on public.learning_milestones;
create trigger learning_milestones_guard before insert or update of program_id, item_ids, achievement_id
  on public.learning_milestones for each row execute function app.guard_milestone();

-- The programs naming an item are found from content_references (kept from every program's payload by
-- app.keep_content_references) through its target index, not by reading the payload of every program
-- that has milestones; (target_id, item_id) answers that from the index alone.
create index content_references_target_item_idx on public.content_references (target_id, item_id);
drop index public.content_references_target_idx;

-- As before (20261204000300_milestones.sql), but the candidate milestones are those of the item itself
-- (a program item's stamp) or of the programs whose sections name it, each found through an index.
create or replace function app.settle_milestones(p_user uuid, p_community uuid, p_item uuid) returns void
language plpgsql security definer set search_path = '' as $$
declare
  m public.learning_milestones;
  s record;
  r public.learning_milestone_results;
begin
  for m in
    select ms.* from public.learning_milestones ms
     where ms.program_id in (select p_item
                             union all
                             select c.item_id from public.content_references c where c.target_id = p_item)
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
revoke all on function app.settle_milestones(uuid, uuid, uuid) from public, anon, authenticated;
