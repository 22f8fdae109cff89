"""The efficiency advisor: detectors over data GreenESG already holds, and the proof of a reduction.

Each detector is a pure function of plain records (no ORM) returning Findings with an estimated monthly saving;
`steering/recommendations.py` reads the records, runs the detectors and keeps the recommendations.
docs/methodology.md §10 gives every formula and threshold.
"""
