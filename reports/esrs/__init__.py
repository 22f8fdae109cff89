"""ESRS E1 report: pure modules (periods, facts, rendering, exports). No ORM in here."""
