"""/v1/batches: many native requests (or N takes of one) admitted as the key's limits allow."""
