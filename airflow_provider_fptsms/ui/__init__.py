"""The campaign view in the Airflow UI (Airflow 3.1+): :mod:`.board` (the figures, pure), :mod:`.app` (the JSON
API and the page), :mod:`.auth` (Airflow's user and DAG permissions); registered by :mod:`..plugins`."""
