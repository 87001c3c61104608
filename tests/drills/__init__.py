"""`make drill`: kill -9 and concurrency drills with fixed seeds on throwaway data dirs.

One module per drill (ingest, api_writes, build, registry, fit, race), `common` for what they
share (environments, back ends, a live server) and `run` for the runner that prints
tried/passed/failed per drill and the acknowledged writes lost. `make test` runs one short
round of each through tests/drills/test_drills.py.
"""
