"""Export worker: turns export requests from the SQS queue into files customers can download."""
