module github.com/tokengate/tokengate

go 1.26.0

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/tetratelabs/proxy-wasm-go-sdk v0.24.0
	github.com/tetratelabs/wazero v1.12.0
	github.com/tidwall/gjson v1.20.1
	golang.org/x/crypto v0.58.0
)

require (
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
