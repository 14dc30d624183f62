module hakoniwa.example/bindings-go

go 1.19
