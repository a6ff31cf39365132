package jwk

// MaxDepth is the deepest nesting of JSON arrays and objects that Parse and
// the token verifier accept. Real key sets and tokens nest a few levels;
// gjson validates JSON recursively, and inside a WebAssembly VM every level
// is a native call frame, so a few thousand levels of "[" (which fit in one
// token) would exhaust the engine's stack and trap the VM (V8 reports
// "Maximum call stack size exceeded").
const MaxDepth = 32

// TooDeep reports whether the JSON text b nests arrays and objects more than
// max levels deep. It only counts brackets outside strings, so it is cheap
// and never recurses; it does not validate b.
func TooDeep(b []byte, max int) bool {
	depth := 0
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			if depth > max {
				return true
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return false
}
