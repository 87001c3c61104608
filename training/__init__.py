"""Training and evaluation: metrics, benchmark tasks T1/T2, baselines and the quality bench."""
