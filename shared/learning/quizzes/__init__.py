"""Quiz attempts: started, then submitted and scored in the database against keys no learner reads."""
