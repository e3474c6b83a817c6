-- Demo catalogue for the local stack (applied by scripts/serve after seed.sql; not by the test suite,
-- whose tests arrange their own content). A few items of every type, one published AI agent per
-- community (the agent its learners chat with), and grants that make Acme and Globex see different
-- things. Fixed ids; safe to run more than once. Payloads follow shared/content/payloads.py.

insert into public.user_tags (id, community_id, name, color) values
  ('d0000000-0000-4000-8000-0000000c0a01', 'c0000000-0000-4000-8000-000000000001', 'Sales', '#16a34a')
on conflict do nothing;
insert into public.user_tag_assignments (tag_id, user_id, community_id) values
  ('d0000000-0000-4000-8000-0000000c0a01', 'a0000000-0000-4000-8000-000000000012', 'c0000000-0000-4000-8000-000000000001')
on conflict do nothing;

insert into public.content_folders (id, community_id, repository, name) values
  ('f0000000-0000-4000-8000-0000000c0001', null, 'content', 'Getting started'),
  ('f0000000-0000-4000-8000-0000000c0a01', 'c0000000-0000-4000-8000-000000000001', 'content', 'Acme playbooks')
on conflict do nothing;

insert into public.content_items (id, community_id, type, title, description, tags, folder_id, status, payload, created_by, updated_by) values
  ('e0000000-0000-4000-8000-0000000c0001', null, 'ai_agent', 'Prompt Coach',
   'Practise writing prompts with a coach who asks what you really need.', '{prompting,beginner}',
   'f0000000-0000-4000-8000-0000000c0001', 'published',
   '{"name": "Prompt Coach", "short_description": "Helps you turn a vague request into a precise prompt.",
     "avatar_url": null}',
   'a0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000002'),
  ('e0000000-0000-4000-8000-0000000c0002', null, 'ai_agent', 'Data Analyst Buddy',
   'Talk through a spreadsheet question and get the formula or pivot you need.', '{data,excel}',
   null, 'published',
   '{"name": "Data Analyst Buddy", "short_description": "Explains formulas, pivots and charts in plain words.",
     "avatar_url": null}',
   'a0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000002'),
  ('e0000000-0000-4000-8000-0000000c0003', null, 'video', 'Prompting fundamentals in 10 minutes',
   'Roles, context, examples and constraints: the four parts of a good prompt.', '{prompting,beginner}',
   'f0000000-0000-4000-8000-0000000c0001', 'published',
   '{"url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "platform": "youtube", "platform_video_id": "dQw4w9WgXcQ",
     "duration_seconds": 612, "transcript": null}',
   'a0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000002'),
  ('e0000000-0000-4000-8000-0000000c0004', null, 'document', 'Writing effective prompts',
   'A one-page guide with before-and-after examples.', '{prompting}',
   'f0000000-0000-4000-8000-0000000c0001', 'published',
   '{"html_body": "<h1>Writing effective prompts</h1><p>Say who the model should be, what you need, and what a good answer looks like. Give an example when the format matters.</p>",
     "json_body": null, "word_count": 30, "reading_minutes": 1}',
   'a0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000002'),
  ('e0000000-0000-4000-8000-0000000c0005', null, 'prompt', 'Summarise a meeting',
   'Turn raw meeting notes into decisions, owners and dates.', '{productivity}', null, 'published',
   '{"prompt_text": "Here are my meeting notes. List the decisions, each action with its owner and due date, and open questions.\n\n<notes>", "category": "Productivity"}',
   'a0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000002'),
  ('e0000000-0000-4000-8000-0000000c0006', null, 'automation', 'Triage support e-mails automatically',
   'Label and route incoming support e-mails with an AI step.', '{automation,sales}', null, 'published',
   '{"url": "https://automations.example.com/templates/email-triage", "required_tools": ["Gmail", "Zapier"],
     "tool_description": "Reads each new e-mail, classifies it and applies a label.",
     "setup_instructions": "Connect your mailbox, choose the labels, and run the test e-mail."}',
   'a0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000002'),
  ('e0000000-0000-4000-8000-0000000c0007', null, 'image', 'Anatomy of a prompt',
   'A diagram of the four parts of a prompt.', '{prompting}', null, 'published',
   '{"url": "https://cdn.aigym.example.com/demo/prompt-anatomy.png", "alt_text": "Role, context, examples and constraints, each in its own box",
     "byte_size": 182044, "mime_type": "image/png", "width": 1600, "height": 900}',
   'a0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000002'),
  ('e0000000-0000-4000-8000-0000000c0008', null, 'pdf', 'AI usage policy template',
   'A starting point for your organisation''s AI policy.', '{policy}', null, 'published',
   '{"url": "https://cdn.aigym.example.com/demo/ai-policy-template.pdf", "byte_size": 254310, "page_count": 6}',
   'a0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000002'),
  ('e0000000-0000-4000-8000-0000000c0009', null, 'document', 'Agents 101 (coming soon)',
   'What AI agents are and when to use one.', '{agents}', null, 'draft',
   '{"html_body": "<p>Draft.</p>", "json_body": null, "word_count": 1, "reading_minutes": 1}',
   'a0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000002'),
  ('e0000000-0000-4000-8000-0000000c0a01', 'c0000000-0000-4000-8000-000000000001', 'prompt', 'Acme tone of voice',
   'Rewrite any text in Acme''s house style.', '{writing}', 'f0000000-0000-4000-8000-0000000c0a01', 'published',
   '{"prompt_text": "Rewrite the text below in Acme''s voice: friendly, direct, no jargon, short sentences.\n\n<text>", "category": "Writing"}',
   'a0000000-0000-4000-8000-000000000011', 'a0000000-0000-4000-8000-000000000011'),
  ('e0000000-0000-4000-8000-0000000c0b01', 'c0000000-0000-4000-8000-000000000002', 'video', 'Globex onboarding: our AI tools',
   'A tour of the AI tools Globex uses every day.', '{onboarding}', null, 'published',
   '{"url": "https://vimeo.com/76979871", "platform": "vimeo", "platform_video_id": "76979871", "duration_seconds": 300, "transcript": null}',
   'a0000000-0000-4000-8000-000000000021', 'a0000000-0000-4000-8000-000000000021')
,
  ('e0000000-0000-4000-8000-0000000c0b02', 'c0000000-0000-4000-8000-000000000002', 'automation', 'Globex: file expense receipts',
   'Forward a receipt, get an expense line.', '{finance}', null, 'published',
   '{"url": "https://automations.example.com/templates/globex-receipts", "required_tools": ["Outlook"],
     "tool_description": "Reads a forwarded receipt and adds an expense line.", "setup_instructions": "Connect your mailbox."}',
   'a0000000-0000-4000-8000-000000000021', 'a0000000-0000-4000-8000-000000000021')
on conflict (id) do nothing;

-- Acme: its agent (Prompt Coach), the fundamentals, the guide, the policy (for 90 days), the triage
-- automation for its Sales tag, its own tone-of-voice prompt. Globex: its agent (Data Analyst Buddy),
-- the fundamentals, the meeting prompt, the diagram, and its own onboarding video for Gina alone.
-- The agents' prompts and model settings: for their editors only (migration 20261203000200).
insert into public.content_item_keys (item_id, keys) values
  ('e0000000-0000-4000-8000-0000000c0001', '{
     "system_prompt": "You are a patient prompt-writing coach. Ask one clarifying question at a time, then suggest an improved prompt and explain the change.",
     "model_settings": {"provider": "offline", "model": "offline-echo", "temperature": 0.4, "max_output_tokens": 800}}'),
  ('e0000000-0000-4000-8000-0000000c0002', '{
     "system_prompt": "You are a friendly data analyst. Answer spreadsheet questions with the exact formula first, then a one-paragraph explanation.",
     "model_settings": {"provider": "offline", "model": "offline-echo", "temperature": 0.2, "max_output_tokens": 1000}}')
on conflict do nothing;

insert into public.content_grants (id, item_id, community_id, tag_id, user_id, starts_at, ends_at) values
  ('90000000-0000-4000-8000-0000000c0a01', 'e0000000-0000-4000-8000-0000000c0001', 'c0000000-0000-4000-8000-000000000001', null, null, null, null),
  ('90000000-0000-4000-8000-0000000c0a02', 'e0000000-0000-4000-8000-0000000c0003', 'c0000000-0000-4000-8000-000000000001', null, null, null, null),
  ('90000000-0000-4000-8000-0000000c0a03', 'e0000000-0000-4000-8000-0000000c0004', 'c0000000-0000-4000-8000-000000000001', null, null, null, null),
  ('90000000-0000-4000-8000-0000000c0a04', 'e0000000-0000-4000-8000-0000000c0008', 'c0000000-0000-4000-8000-000000000001', null, null, now() - interval '1 day', now() + interval '90 days'),
  ('90000000-0000-4000-8000-0000000c0a05', 'e0000000-0000-4000-8000-0000000c0006', 'c0000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-0000000c0a01', null, null, null),
  ('90000000-0000-4000-8000-0000000c0a06', 'e0000000-0000-4000-8000-0000000c0a01', 'c0000000-0000-4000-8000-000000000001', null, null, null, null),
  ('90000000-0000-4000-8000-0000000c0b01', 'e0000000-0000-4000-8000-0000000c0002', 'c0000000-0000-4000-8000-000000000002', null, null, null, null),
  ('90000000-0000-4000-8000-0000000c0b02', 'e0000000-0000-4000-8000-0000000c0003', 'c0000000-0000-4000-8000-000000000002', null, null, null, null),
  ('90000000-0000-4000-8000-0000000c0b03', 'e0000000-0000-4000-8000-0000000c0005', 'c0000000-0000-4000-8000-000000000002', null, null, null, null),
  ('90000000-0000-4000-8000-0000000c0b04', 'e0000000-0000-4000-8000-0000000c0007', 'c0000000-0000-4000-8000-000000000002', null, null, null, null),
  ('90000000-0000-4000-8000-0000000c0b05', 'e0000000-0000-4000-8000-0000000c0b01', 'c0000000-0000-4000-8000-000000000002', null, 'a0000000-0000-4000-8000-000000000022', null, null)
on conflict do nothing;

-- WODs and a BLOCK (shared/authoring/blocks.py): pages of mixed blocks embedding the items above, and a
-- quiz whose answers live in content_item_keys, never in the payload. Acme sees the platform WOD;
-- Globex sees its own WOD (and, through it, its receipts automation) and the platform warm-up BLOCK.
-- A WOD embeds only what everyone it is granted to may see: what it names comes with it.
insert into public.content_items (id, community_id, type, title, description, tags, status, payload, created_by, updated_by) values
  ('e0000000-0000-4000-8000-0000000c1001', null, 'wod', 'Prompting fundamentals: your first WOD',
   'Watch, practise with the coach, and check what you learned.', '{prompting,beginner}', 'published',
   '{"difficulty": "beginner", "estimated_minutes": 25, "pages": [
      {"id": "5a000000-0000-4000-8000-000000000101", "title": "Watch", "blocks": [
        {"id": "5b000000-0000-4000-8000-000000000101", "type": "section_header", "title": "The four parts of a prompt", "subtitle": "Ten minutes", "level": 1},
        {"id": "5b000000-0000-4000-8000-000000000102", "type": "rich_text", "html_body": "<p>A good prompt says <strong>who</strong> the model is, <strong>what</strong> you need, gives an <em>example</em> and sets <em>limits</em>.</p>", "json_body": null},
        {"id": "5b000000-0000-4000-8000-000000000103", "type": "video", "content_id": "e0000000-0000-4000-8000-0000000c0003", "caption": "Prompting fundamentals", "start_seconds": null},
        {"id": "5b000000-0000-4000-8000-000000000104", "type": "document", "content_id": "e0000000-0000-4000-8000-0000000c0004", "caption": "Keep this guide at hand", "display": "link"},
        {"id": "5b000000-0000-4000-8000-000000000112", "type": "pdf", "content_id": "e0000000-0000-4000-8000-0000000c0008", "caption": "Your AI policy template", "display": "download"}]},
      {"id": "5a000000-0000-4000-8000-000000000102", "title": "Practise", "blocks": [
        {"id": "5b000000-0000-4000-8000-000000000105", "type": "list", "style": "numbered", "items": ["Pick a task you did this week", "Write a first prompt for it", "Ask the coach to improve it"]},
        {"id": "5b000000-0000-4000-8000-000000000106", "type": "ai_agent", "content_id": "e0000000-0000-4000-8000-0000000c0001", "caption": "", "intro": "Paste your first prompt and ask the coach what is missing."},
        {"id": "5b000000-0000-4000-8000-000000000107", "type": "divider"},
        {"id": "5b000000-0000-4000-8000-000000000108", "type": "user_submission", "instructions": "Paste your improved prompt.", "kind": "text", "is_required": true}]},
      {"id": "5a000000-0000-4000-8000-000000000103", "title": "Check", "blocks": [
        {"id": "5b000000-0000-4000-8000-000000000109", "type": "quote", "text": "The quality of the answer follows the quality of the question.", "attribution": "Coach''s proverb"},
        {"id": "5b000000-0000-4000-8000-000000000110", "type": "quiz", "title": "Check your understanding", "instructions": "Four questions; 75 % passes.",
         "passing_score": 75, "time_limit_seconds": 600, "retake": {"allowed": true, "max_attempts": 3}, "questions": [
          {"id": "5c000000-0000-4000-8000-000000000101", "kind": "single_choice", "prompt": "Which part tells the model what a good answer looks like?",
           "options": [{"id": "a", "text": "The role"}, {"id": "b", "text": "An example"}, {"id": "c", "text": "The greeting"}]},
          {"id": "5c000000-0000-4000-8000-000000000102", "kind": "multiple_choice", "prompt": "Which of these are constraints?",
           "options": [{"id": "a", "text": "At most 100 words"}, {"id": "b", "text": "You are a lawyer"}, {"id": "c", "text": "Answer as a table"}]},
          {"id": "5c000000-0000-4000-8000-000000000103", "kind": "true_false", "prompt": "A longer prompt is always a better prompt."},
          {"id": "5c000000-0000-4000-8000-000000000104", "kind": "short_answer", "prompt": "Name the part of a prompt that says who the model should be.", "case_sensitive": false}]}]}]}',
   'a0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000002'),
  ('e0000000-0000-4000-8000-0000000c1002', 'c0000000-0000-4000-8000-000000000002', 'wod', 'Globex: your first week with AI',
   'Our tools, a prompt to keep, and a short check.', '{onboarding}', 'published',
   '{"difficulty": "beginner", "estimated_minutes": 15, "pages": [
      {"id": "5a000000-0000-4000-8000-000000000201", "title": "Our tools", "blocks": [
        {"id": "5b000000-0000-4000-8000-000000000201", "type": "section_header", "title": "Welcome to Globex", "subtitle": "", "level": 1},
        {"id": "5b000000-0000-4000-8000-000000000202", "type": "video", "content_id": "e0000000-0000-4000-8000-0000000c0b01", "caption": "A tour of our AI tools", "start_seconds": 30},
        {"id": "5b000000-0000-4000-8000-000000000203", "type": "image", "content_id": "e0000000-0000-4000-8000-0000000c0007", "caption": "Keep this in mind", "alt_text": null, "width": "medium"}]},
      {"id": "5a000000-0000-4000-8000-000000000202", "title": "Try it", "blocks": [
        {"id": "5b000000-0000-4000-8000-000000000204", "type": "prompt", "content_id": "e0000000-0000-4000-8000-0000000c0005", "caption": "Use it after your next meeting", "intro": ""},
        {"id": "5b000000-0000-4000-8000-000000000205", "type": "ai_agent", "content_id": "e0000000-0000-4000-8000-0000000c0002", "caption": "", "intro": "Ask the analyst how to total a column by month."},
        {"id": "5b000000-0000-4000-8000-000000000206", "type": "quiz", "title": "Quick check", "instructions": "", "passing_score": 70, "time_limit_seconds": null,
         "retake": {"allowed": false, "max_attempts": null}, "questions": [
          {"id": "5c000000-0000-4000-8000-000000000201", "kind": "true_false", "prompt": "Meeting notes may be pasted into any public AI tool."},
          {"id": "5c000000-0000-4000-8000-000000000202", "kind": "single_choice", "prompt": "Who answers spreadsheet questions?",
           "options": [{"id": "agent", "text": "Data Analyst Buddy"}, {"id": "it", "text": "The IT desk"}]}]},
        {"id": "5b000000-0000-4000-8000-000000000207", "type": "automation", "content_id": "e0000000-0000-4000-8000-0000000c0b02", "caption": "Let the robot file your receipts", "intro": ""}]}]}',
   'a0000000-0000-4000-8000-000000000021', 'a0000000-0000-4000-8000-000000000021'),
  ('e0000000-0000-4000-8000-0000000c1101', null, 'block', 'Five-minute prompt warm-up',
   'Loosen up before a session: three quick rewrites.', '{prompting}', 'published',
   '{"category": "warm-up", "equipment": ["A text you wrote today"], "instructions": "Do the three rewrites without stopping.", "pages": [
      {"id": "5a000000-0000-4000-8000-000000000301", "title": "Warm-up", "blocks": [
        {"id": "5b000000-0000-4000-8000-000000000301", "type": "list", "style": "checklist", "items": ["Make it shorter", "Make it friendlier", "Make it a table"]},
        {"id": "5b000000-0000-4000-8000-000000000302", "type": "prompt", "content_id": "e0000000-0000-4000-8000-0000000c0005", "caption": "", "intro": "Then summarise your notes with this."}]}]}',
   'a0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000002')
on conflict (id) do nothing;

insert into public.content_item_keys (item_id, keys) values
  ('e0000000-0000-4000-8000-0000000c1001', '{"5b000000-0000-4000-8000-000000000110": {
     "5c000000-0000-4000-8000-000000000101": {"answer": ["b"], "explanation": "An example shows the shape of a good answer."},
     "5c000000-0000-4000-8000-000000000102": {"answer": ["a", "c"], "explanation": "A role is not a constraint; a length and a format are."},
     "5c000000-0000-4000-8000-000000000103": {"answer": false, "explanation": "Clear beats long."},
     "5c000000-0000-4000-8000-000000000104": {"answer": ["role", "the role"], "explanation": ""}}}'),
  ('e0000000-0000-4000-8000-0000000c1002', '{"5b000000-0000-4000-8000-000000000206": {
     "5c000000-0000-4000-8000-000000000201": {"answer": false, "explanation": "Only the tools Globex approved."},
     "5c000000-0000-4000-8000-000000000202": {"answer": ["agent"], "explanation": ""}}}'),
  ('e0000000-0000-4000-8000-0000000c1101', '{}')
on conflict do nothing;

insert into public.content_grants (id, item_id, community_id, tag_id, user_id, starts_at, ends_at) values
  ('90000000-0000-4000-8000-0000000c1a01', 'e0000000-0000-4000-8000-0000000c1001', 'c0000000-0000-4000-8000-000000000001', null, null, null, null),
  ('90000000-0000-4000-8000-0000000c1b01', 'e0000000-0000-4000-8000-0000000c1002', 'c0000000-0000-4000-8000-000000000002', null, null, null, null),
  ('90000000-0000-4000-8000-0000000c1b02', 'e0000000-0000-4000-8000-0000000c1101', 'c0000000-0000-4000-8000-000000000002', null, null, null, null)
on conflict do nothing;

-- ---------------------------------------------------------------------------------------------------
-- Programs (shared/authoring/programs.py): sections of WODs and BLOCKs. Acme is granted the platform's
-- four-week plan, with a calendar (week and day per item): the platform WOD above and a practice WOD of
-- its own. Globex its own course, without a calendar: its own WOD and the platform warm-up granted to it.
-- Each community sees only its program (and, through it, what it uses).
-- ---------------------------------------------------------------------------------------------------
insert into public.content_items (id, community_id, type, title, description, tags, status, payload, created_by, updated_by) values
  ('e0000000-0000-4000-8000-0000000c1003', null, 'wod', 'Practise: three rewrites a day',
   'Short daily practice for the four-week plan.', '{prompting}', 'published',
   '{"difficulty": "beginner", "estimated_minutes": 10, "pages": [
      {"id": "5a000000-0000-4000-8000-000000000401", "title": "Today''s rewrites", "blocks": [
        {"id": "5b000000-0000-4000-8000-000000000401", "type": "rich_text", "html_body": "<p>Take one prompt you used today and rewrite it three ways.</p>", "json_body": null},
        {"id": "5b000000-0000-4000-8000-000000000402", "type": "list", "style": "numbered", "items": ["Add a role", "Add an example", "Add a limit"]}]}]}',
   'a0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000002'),
  ('e0000000-0000-4000-8000-0000000c2001', null, 'program', 'AI foundations in four weeks',
   'Learn the four parts of a prompt, then practise them on a schedule.', '{prompting,beginner}', 'published',
   '{"difficulty": "beginner", "estimated_weeks": 4, "calendar": true, "capacity": 40,
     "enrollment_deadline": "2027-06-30T23:59:00Z", "sections": [
      {"id": "5d000000-0000-4000-8000-000000000101", "title": "Weeks 1-2: first steps", "items": [
        {"id": "5e000000-0000-4000-8000-000000000101", "item_id": "e0000000-0000-4000-8000-0000000c1001", "week": 1, "day": 1}]},
      {"id": "5d000000-0000-4000-8000-000000000102", "title": "Weeks 3-4: practice", "items": [
        {"id": "5e000000-0000-4000-8000-000000000102", "item_id": "e0000000-0000-4000-8000-0000000c1003", "week": 3, "day": 2}]}]}',
   'a0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000002'),
  ('e0000000-0000-4000-8000-0000000c2002', 'c0000000-0000-4000-8000-000000000002', 'program', 'Globex AI onboarding course',
   'At your own pace: warm up, then your first week with AI.', '{onboarding}', 'published',
   '{"difficulty": "beginner", "estimated_weeks": null, "calendar": false, "capacity": null,
     "enrollment_deadline": null, "sections": [
      {"id": "5d000000-0000-4000-8000-000000000201", "title": "Start here", "items": [
        {"id": "5e000000-0000-4000-8000-000000000201", "item_id": "e0000000-0000-4000-8000-0000000c1101", "week": null, "day": null},
        {"id": "5e000000-0000-4000-8000-000000000202", "item_id": "e0000000-0000-4000-8000-0000000c1002", "week": null, "day": null}]}]}',
   'a0000000-0000-4000-8000-000000000021', 'a0000000-0000-4000-8000-000000000021')
on conflict (id) do nothing;

insert into public.content_grants (id, item_id, community_id, tag_id, user_id, starts_at, ends_at) values
  ('90000000-0000-4000-8000-0000000c2a01', 'e0000000-0000-4000-8000-0000000c2001', 'c0000000-0000-4000-8000-000000000001', null, null, null, null),
  ('90000000-0000-4000-8000-0000000c2b01', 'e0000000-0000-4000-8000-0000000c2002', 'c0000000-0000-4000-8000-000000000002', null, null, null, null)
on conflict do nothing;

-- ---------------------------------------------------------------------------------------------------
-- Learning progress (issue 13): recorded through the checked functions the API calls, as each learner
-- (their claims set for this transaction), so the events are queued as for a real learner and the
-- worker hands them on. Lena is enrolled in Acme's four-week plan and has done its first WOD (quiz
-- passed): 50 %. Gina has warmed up in Globex's course: 50 %. Liam has just enrolled. Applying this
-- again changes nothing (the functions are idempotent; the quiz is taken only once).
-- ---------------------------------------------------------------------------------------------------
select set_config('request.jwt.claims', '{"sub": "a0000000-0000-4000-8000-000000000012", "role": "authenticated"}', true);
select app.enroll('e0000000-0000-4000-8000-0000000c2001', 'c0000000-0000-4000-8000-000000000001',
                  array['a0000000-0000-4000-8000-000000000012']::uuid[], 'self');
select app.record_completion('c0000000-0000-4000-8000-000000000001', 'page', '5a000000-0000-4000-8000-000000000101',
                             'e0000000-0000-4000-8000-0000000c1001', null, 540);
select app.record_completion('c0000000-0000-4000-8000-000000000001', 'page', '5a000000-0000-4000-8000-000000000102',
                             'e0000000-0000-4000-8000-0000000c1001', null, 780);
select app.start_quiz_attempt('c0000000-0000-4000-8000-000000000001', 'e0000000-0000-4000-8000-0000000c1001',
                              '5b000000-0000-4000-8000-000000000110')
 where not exists (select 1 from public.learning_quiz_attempts a
                    where a.user_id = 'a0000000-0000-4000-8000-000000000012' and a.status = 'submitted');
select app.submit_quiz_attempt(a.id, '{"5c000000-0000-4000-8000-000000000101": ["b"],
                                       "5c000000-0000-4000-8000-000000000102": ["a", "c"],
                                       "5c000000-0000-4000-8000-000000000103": false,
                                       "5c000000-0000-4000-8000-000000000104": "The role"}')
  from public.learning_quiz_attempts a
 where a.user_id = 'a0000000-0000-4000-8000-000000000012' and a.status = 'open';
select app.record_completion('c0000000-0000-4000-8000-000000000001', 'page', '5a000000-0000-4000-8000-000000000103',
                             'e0000000-0000-4000-8000-0000000c1001', 100, 360);
select set_config('request.jwt.claims', '{"sub": "a0000000-0000-4000-8000-000000000013", "role": "authenticated"}', true);
select app.enroll('e0000000-0000-4000-8000-0000000c2001', 'c0000000-0000-4000-8000-000000000001',
                  array['a0000000-0000-4000-8000-000000000013']::uuid[], 'self');
select set_config('request.jwt.claims', '{"sub": "a0000000-0000-4000-8000-000000000022", "role": "authenticated"}', true);
select app.enroll('e0000000-0000-4000-8000-0000000c2002', 'c0000000-0000-4000-8000-000000000002',
                  array['a0000000-0000-4000-8000-000000000022']::uuid[], 'self');
select app.record_completion('c0000000-0000-4000-8000-000000000002', 'wod', 'e0000000-0000-4000-8000-0000000c1101',
                             null, null, 300);
select set_config('request.jwt.claims', '', true);

-- Lena was also active the two days before (her time): with today's events, once the worker has
-- applied them, a three-day streak. Only the days are seeded; the streak and badges are the worker's.
insert into app.activity_days (user_id, day)
select p.id, app.local_day(p.timezone, now()) - back
  from public.profiles p, generate_series(1, 2) back
 where p.id = 'a0000000-0000-4000-8000-000000000012'
on conflict do nothing;

-- ---------------------------------------------------------------------------------------------------
-- Forum (issue 15): a few posts, threaded replies and reactions in each community, written through the
-- checked functions the `forum` function calls, as each member, so their events are queued and the
-- worker turns the replies into notifications for the posts' authors (and the posting into active
-- days). Applying this again adds nothing: each write is skipped once its row exists.
-- ---------------------------------------------------------------------------------------------------
select set_config('request.jwt.claims', '{"sub": "a0000000-0000-4000-8000-000000000012", "role": "authenticated"}', true);
select app.forum_create_post('c0000000-0000-4000-8000-000000000001', 'Your best prompt for meeting notes?',
  E'I paste the transcript and ask for **decisions, owners and deadlines**. What do you add?', '{}', null)
 where not exists (select 1 from public.forum_posts where title = 'Your best prompt for meeting notes?');
select set_config('request.jwt.claims', '{"sub": "a0000000-0000-4000-8000-000000000013", "role": "authenticated"}', true);
select app.forum_create_post('c0000000-0000-4000-8000-000000000001', 'Agents that draft e-mails: worth it?',
  E'Has anyone let an agent draft customer replies? How much did you still have to edit?', '{}', null)
 where not exists (select 1 from public.forum_posts where title = 'Agents that draft e-mails: worth it?');
select app.forum_create_reply(p.id, null, E'I also ask it to list **open questions** at the end.')
  from public.forum_posts p
 where p.title = 'Your best prompt for meeting notes?'
   and not exists (select 1 from public.forum_replies r where r.post_id = p.id and r.author_id = auth.uid());
select set_config('request.jwt.claims', '{"sub": "a0000000-0000-4000-8000-000000000011", "role": "authenticated"}', true);
select app.forum_create_reply(p.id, r.id, 'Great tip. Our template in the Prompt Library does exactly this.')
  from public.forum_posts p join public.forum_replies r on r.post_id = p.id
 where p.title = 'Your best prompt for meeting notes?'
   and not exists (select 1 from public.forum_replies x where x.post_id = p.id and x.author_id = auth.uid());
select set_config('request.jwt.claims', '{"sub": "a0000000-0000-4000-8000-000000000012", "role": "authenticated"}', true);
select app.forum_create_reply(p.id, null, 'Yes, for first drafts. I still rewrite the opening line every time.')
  from public.forum_posts p
 where p.title = 'Agents that draft e-mails: worth it?'
   and not exists (select 1 from public.forum_replies r where r.post_id = p.id and r.author_id = auth.uid());
select app.forum_react(r.post_id, r.id, 'insightful', true)
  from public.forum_replies r join public.forum_posts p on p.id = r.post_id
 where p.title = 'Your best prompt for meeting notes?' and r.parent_id is null;
select app.forum_react(p.id, null, 'like', true) from public.forum_posts p
 where p.title = 'Agents that draft e-mails: worth it?';
select set_config('request.jwt.claims', '{"sub": "a0000000-0000-4000-8000-000000000022", "role": "authenticated"}', true);
select app.forum_create_post('c0000000-0000-4000-8000-000000000002', 'How do you check the numbers an AI gives you?',
  E'The Data Analyst Buddy is fast, but I want to be sure. Do you recompute, or ask it to show its steps?', '{}', null)
 where not exists (select 1 from public.forum_posts where title = 'How do you check the numbers an AI gives you?');
select set_config('request.jwt.claims', '{"sub": "a0000000-0000-4000-8000-000000000021", "role": "authenticated"}', true);
select app.forum_create_reply(p.id, null, 'Ask for the formula, then run it yourself on a sample of ten rows.')
  from public.forum_posts p
 where p.title = 'How do you check the numbers an AI gives you?'
   and not exists (select 1 from public.forum_replies r where r.post_id = p.id and r.author_id = auth.uid());
select app.forum_react(p.id, null, 'celebrate', true) from public.forum_posts p
 where p.title = 'How do you check the numbers an AI gives you?';
select set_config('request.jwt.claims', '{"sub": "a0000000-0000-4000-8000-000000000022", "role": "authenticated"}', true);
select app.forum_react(r.post_id, r.id, 'like', true)
  from public.forum_replies r join public.forum_posts p on p.id = r.post_id
 where p.title = 'How do you check the numbers an AI gives you?';
select set_config('request.jwt.claims', '', true);
