-- A customer's orders by email and name (labels e and m), for the
-- customer fact of the workflow (input.context.customer) and the list
-- filters customer_email and customer_name. The values are normalized as
-- the host normalizes them: the email trimmed and in lower case, the name
-- in lower case with runs of white space made one.
INSERT INTO order_labels (order_id, kind, value)
SELECT id, 'e', lower(btrim(record->'customer'->>'email')) FROM orders
WHERE btrim(coalesce(record->'customer'->>'email', '')) <> ''
ON CONFLICT DO NOTHING;
INSERT INTO order_labels (order_id, kind, value)
SELECT id, 'm', lower(btrim(regexp_replace(record->'customer'->>'name', '\s+', ' ', 'g'))) FROM orders
WHERE btrim(coalesce(record->'customer'->>'name', '')) <> ''
ON CONFLICT DO NOTHING;
