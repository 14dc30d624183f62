module hakoniwa.example/tests-go

go 1.19

require hakoniwa.example/bindings-go v0.0.0

replace hakoniwa.example/bindings-go => ../../bindings-go
