"""Jobs the CLI runs: each is one library function that reads data, trains and writes results."""
