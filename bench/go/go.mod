module gocoro/bench

go 1.19
