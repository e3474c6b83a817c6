-- Input hygiene held by the database: names and labels people type never start like a spreadsheet
-- formula (= + - @, a tab or a carriage return), whoever writes them: our functions (which answer 422
-- `spreadsheet_formula` first) or a frontend updating its own profile through PostgREST.
-- NUL needs no rule here: Postgres cannot store one in text at all.

-- Rows written before this rule are neutralised the way spreadsheets expect (a leading apostrophe),
-- so every constraint below can be validated at once.
update public.profiles set first_name = left('''' || first_name, 100) where first_name ~ '^[-=+@\t\r]';
update public.profiles set last_name = left('''' || last_name, 100) where last_name ~ '^[-=+@\t\r]';
update public.communities set name = left('''' || name, 120) where name ~ '^[-=+@\t\r]';
update public.communities set project_name = left('''' || project_name, 120)
  where project_name ~ '^[-=+@\t\r]';
update public.user_tags set name = left('''' || name, 60) where name ~ '^[-=+@\t\r]';
update public.signup_links set label = left('''' || label, 120) where label ~ '^[-=+@\t\r]';
update public.import_jobs set filename = left('''' || filename, 255) where filename ~ '^[-=+@\t\r]';
update public.import_rows set status = 'failed', error = 'first_name_formula'
  where status = 'pending' and (first_name ~ '^[-=+@\t\r]' or last_name ~ '^[-=+@\t\r]');

alter table public.profiles
  add constraint profiles_first_name_plain check (first_name !~ '^[-=+@\t\r]'),
  add constraint profiles_last_name_plain check (last_name !~ '^[-=+@\t\r]');
alter table public.communities
  add constraint communities_name_plain check (name !~ '^[-=+@\t\r]'),
  add constraint communities_project_name_plain check (project_name !~ '^[-=+@\t\r]');
alter table public.user_tags
  add constraint user_tags_name_plain check (name !~ '^[-=+@\t\r]');
alter table public.signup_links
  add constraint signup_links_label_plain check (label !~ '^[-=+@\t\r]');
alter table public.import_jobs
  add constraint import_jobs_filename_plain check (filename !~ '^[-=+@\t\r]');
-- A failed row keeps its cells as uploaded for the error report (which neutralises them); a row that
-- may still become a member's profile must hold plain names.
alter table public.import_rows
  add constraint import_rows_names_plain check (
    status = 'failed' or (first_name !~ '^[-=+@\t\r]' and last_name !~ '^[-=+@\t\r]')
  );

-- Sign-up metadata comes from Supabase Auth, which cannot be told a 422: a name that starts like a
-- formula is not kept (the user sets one through `PATCH me`, which explains the rule).
create or replace function app.create_profile_for_user() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  first_name text := left(coalesce(new.raw_user_meta_data ->> 'first_name', ''), 100);
  last_name text := left(coalesce(new.raw_user_meta_data ->> 'last_name', ''), 100);
begin
  insert into public.profiles (id, email, first_name, last_name)
  values (
    new.id,
    coalesce(new.email, ''),
    case when first_name ~ '^[-=+@\t\r]' then '' else first_name end,
    case when last_name ~ '^[-=+@\t\r]' then '' else last_name end
  )
  on conflict (id) do nothing;
  return new;
end
$$;
