# Each set of employment terms stores the days it applies for the absence figures
# (reports/figures.py), so the figures read them without sorting every employee's terms with a
# window function on each query: `applies_from` NULL for an employee's first terms (they also
# cover the days before them), else `valid_from`; `applies_until` the day before the next terms,
# NULL for the last. The columns are the database's own, like Employee.has_absence_case: no model
# field (the application never writes them, so a stale instance cannot overwrite them), kept by
# statement triggers on every write however it is made (ORM, bulk_create, the import's COPY, SQL),
# and filled in here for the existing rows.
from django.db import migrations

SQL = """
ALTER TABLE employees_employmentterms ADD COLUMN applies_from date, ADD COLUMN applies_until date;

-- Recompute the spans of these employees' terms; only rows whose span changed are written.
CREATE FUNCTION employees_refresh_terms_spans(employee_ids bigint[]) RETURNS void AS $$
BEGIN
    IF cardinality(employee_ids) = 0 THEN
        RETURN;  -- also ends the trigger's recursion through the UPDATE below
    END IF;
    -- Terms of one employee written in two transactions at once: the second waits here for the
    -- first to commit, then (a new snapshot per statement) sees both sets of rows.
    PERFORM 1 FROM employees_employee WHERE id = ANY(employee_ids) ORDER BY id
        FOR NO KEY UPDATE;
    UPDATE employees_employmentterms t
       SET applies_from = s.applies_from, applies_until = s.applies_until
      FROM (SELECT id,
                   CASE WHEN lag(valid_from) OVER w IS NOT NULL THEN valid_from END
                       AS applies_from,
                   lead(valid_from) OVER w - 1 AS applies_until
              FROM employees_employmentterms
             WHERE employee_id = ANY(employee_ids)
            WINDOW w AS (PARTITION BY employee_id ORDER BY valid_from)) s
     WHERE t.id = s.id
       AND (t.applies_from, t.applies_until) IS DISTINCT FROM (s.applies_from, s.applies_until);
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION employees_keep_terms_spans() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM employees_refresh_terms_spans(ARRAY(SELECT DISTINCT employee_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM employees_refresh_terms_spans(ARRAY(SELECT DISTINCT employee_id FROM old_rows));
    ELSE
        -- Only a changed employee or start moves a span (not the hours, nor the spans the
        -- refresh itself writes).
        PERFORM employees_refresh_terms_spans(ARRAY(
            SELECT o.employee_id FROM old_rows o JOIN new_rows n ON n.id = o.id
             WHERE (o.employee_id, o.valid_from) IS DISTINCT FROM (n.employee_id, n.valid_from)
            UNION
            SELECT n.employee_id FROM old_rows o JOIN new_rows n ON n.id = o.id
             WHERE (o.employee_id, o.valid_from) IS DISTINCT FROM (n.employee_id, n.valid_from)
        ));
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER employmentterms_spans_insert AFTER INSERT ON employees_employmentterms
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION employees_keep_terms_spans();

CREATE TRIGGER employmentterms_spans_update AFTER UPDATE ON employees_employmentterms
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION employees_keep_terms_spans();

CREATE TRIGGER employmentterms_spans_delete AFTER DELETE ON employees_employmentterms
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION employees_keep_terms_spans();

SELECT employees_refresh_terms_spans(ARRAY(
    SELECT DISTINCT employee_id FROM employees_employmentterms
));
"""

REVERSE_SQL = """
DROP TRIGGER IF EXISTS employmentterms_spans_delete ON employees_employmentterms;
DROP TRIGGER IF EXISTS employmentterms_spans_update ON employees_employmentterms;
DROP TRIGGER IF EXISTS employmentterms_spans_insert ON employees_employmentterms;
DROP FUNCTION IF EXISTS employees_keep_terms_spans();
DROP FUNCTION IF EXISTS employees_refresh_terms_spans(bigint[]);
ALTER TABLE employees_employmentterms DROP COLUMN IF EXISTS applies_until,
                                      DROP COLUMN IF EXISTS applies_from;
"""


class Migration(migrations.Migration):
    dependencies = [("employees", "0008_cheaper_writes")]

    operations = [migrations.RunSQL(SQL, REVERSE_SQL)]
