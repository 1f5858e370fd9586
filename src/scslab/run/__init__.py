"""Running scenarios: options, the pipeline from scenario to tables, results, batches and Dask."""
