"""Vector semantics shared by the client over hosts and the server over helper processes.

A vector env split into parts must answer as one Gymnasium ``SyncVectorEnv`` over all its sub-envs:
how sub-envs, seeds, actions and reset masks split over the parts (:mod:`.splits`), how the parts'
batches and infos merge back (:mod:`.splits`, :mod:`.infos`), the autoreset bookkeeping across parts
(:mod:`.parts`, :mod:`.modes`), and what a part re-created after a failure answers (:mod:`.restarts`).
No encoding here (that is :mod:`remote_gym.codec`), and no I/O.
"""
