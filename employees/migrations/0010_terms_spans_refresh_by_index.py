# The spans refresh (0009) joined the recomputed spans back to the terms by id alone, and
# PostgreSQL planned that join as a hash over a scan of the whole terms table: at 500,000 terms
# 120 ms for every statement that wrote terms, whatever its size (each batch of an import's
# commit, bench/imports.py). Restricting both sides to the employees concerned lets it read
# only their terms through the employee index. Same result; the function is otherwise as 0009.
from django.db import migrations

REFRESH = """
CREATE OR REPLACE FUNCTION employees_refresh_terms_spans(employee_ids bigint[]) RETURNS void AS $$
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
     WHERE t.employee_id = ANY(employee_ids)
       AND t.id = s.id
       AND (t.applies_from, t.applies_until) IS DISTINCT FROM (s.applies_from, s.applies_until);
END;
$$ LANGUAGE plpgsql;
"""

PREVIOUS = REFRESH.replace("     WHERE t.employee_id = ANY(employee_ids)\n       AND t.id = s.id", "     WHERE t.id = s.id")


class Migration(migrations.Migration):
    dependencies = [("employees", "0009_employmentterms_spans")]

    operations = [migrations.RunSQL(REFRESH, PREVIOUS)]
