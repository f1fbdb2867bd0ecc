-- 0007: run leases, for the methods several processes use to divide runs between them
-- (one process on SQLite claims nothing from anybody, but the contract is the same).
ALTER TABLE runs ADD COLUMN lease_owner TEXT;
ALTER TABLE runs ADD COLUMN lease_until INTEGER;
