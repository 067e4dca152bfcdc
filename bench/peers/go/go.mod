module troupe.invalid/bench/peers/go

go 1.19
