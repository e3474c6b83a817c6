-- Demo data for the local stack and the tests: two communities, every staff role, an admin and learners
-- in each community. Fixed ids so tokens, docs and tests can name them. Safe to run more than once.

insert into auth.users (id, email, email_confirmed_at, raw_user_meta_data) values
  ('a0000000-0000-4000-8000-000000000001', 'super@aigym.example.com', now(), '{"first_name":"Sam","last_name":"Super"}'),
  ('a0000000-0000-4000-8000-000000000002', 'manager@aigym.example.com', now(), '{"first_name":"Mia","last_name":"Manager"}'),
  ('a0000000-0000-4000-8000-000000000003', 'specialist@aigym.example.com', now(), '{"first_name":"Sid","last_name":"Specialist"}'),
  ('a0000000-0000-4000-8000-000000000011', 'admin@acme.example.com', now(), '{"first_name":"Ada","last_name":"Admin"}'),
  ('a0000000-0000-4000-8000-000000000012', 'lena@acme.example.com', now(), '{"first_name":"Lena","last_name":"Learner"}'),
  ('a0000000-0000-4000-8000-000000000013', 'liam@acme.example.com', now(), '{"first_name":"Liam","last_name":"Learner"}'),
  ('a0000000-0000-4000-8000-000000000021', 'admin@globex.example.com', now(), '{"first_name":"Gus","last_name":"Admin"}'),
  ('a0000000-0000-4000-8000-000000000022', 'gina@globex.example.com', now(), '{"first_name":"Gina","last_name":"Learner"}')
on conflict (id) do nothing;

insert into public.platform_staff (user_id, role) values
  ('a0000000-0000-4000-8000-000000000001', 'super_admin'),
  ('a0000000-0000-4000-8000-000000000002', 'manager'),
  ('a0000000-0000-4000-8000-000000000003', 'specialist')
on conflict (user_id) do nothing;

insert into public.communities (id, name, slug, project_name, brand_color, forum_enabled, features) values
  ('c0000000-0000-4000-8000-000000000001', 'Acme Corp', 'acme', 'Acme AI Academy', '#0055ff', true, '{"leaderboard": true}'),
  ('c0000000-0000-4000-8000-000000000002', 'Globex', 'globex', 'Globex AI Lab', '#ff6600', true, '{}')
on conflict (id) do nothing;

insert into public.memberships (community_id, user_id, role, source) values
  ('c0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000011', 'admin', 'admin'),
  ('c0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000012', 'member', 'admin'),
  ('c0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000013', 'member', 'admin'),
  ('c0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000021', 'admin', 'admin'),
  ('c0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000022', 'member', 'admin')
on conflict do nothing;
