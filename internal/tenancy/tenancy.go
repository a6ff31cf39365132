package tenancy

import (
	"errors"
	"strconv"
	"strings"
)

const (
	// Placeholder is the one placeholder a template may hold.
	Placeholder = "{tenantid}"
	// MaxIDLength bounds a tenant id.
	MaxIDLength = 64
	// MaxTenants bounds the allow-list of one provider: every tenant costs
	// a key set in the configuration and a fetch per refresh interval.
	MaxTenants = 256
	// maxTemplateLength bounds a template.
	maxTemplateLength = 1024
)

// Template is a parsed issuer template: the fixed text before and after the
// placeholder. The zero Template matches nothing.
type Template struct {
	prefix, suffix string
}

// IsTemplate reports whether s is meant as a template: it has a brace. An
// issuer URL never has one (RFC 3986 does not allow it unencoded), so a
// brace is either the placeholder or a mistake, and Parse says which.
func IsTemplate(s string) bool {
	return strings.ContainsAny(s, "{}")
}

// Parse reads a template. It must be an absolute http or https URL of
// printable ASCII without a query or fragment, holding Placeholder exactly
// once as a whole path segment (after the host, between two slashes or at
// the end), with no other brace and no "." or ".." segment. The errors say
// which rule a template breaks.
func Parse(s string) (Template, error) {
	if len(s) > maxTemplateLength {
		return Template{}, errors.New("is longer than " + strconv.Itoa(maxTemplateLength) + " characters")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= 0x20 || c >= 0x7f {
			return Template{}, errors.New("must be printable ASCII without spaces (byte " + strconv.Itoa(i) + " is not)")
		}
	}
	if strings.ContainsAny(s, "?#") {
		return Template{}, errors.New("must not have a query or a fragment: an issuer has neither")
	}
	switch n := strings.Count(s, Placeholder); {
	case n == 0:
		return Template{}, errors.New("has no " + Placeholder + " placeholder (the only placeholder there is; it is lower case)")
	case n > 1:
		return Template{}, errors.New("has " + Placeholder + " " + strconv.Itoa(n) + " times; a template holds it exactly once")
	}
	prefix, suffix, _ := strings.Cut(s, Placeholder)
	if strings.ContainsAny(prefix, "{}") || strings.ContainsAny(suffix, "{}") {
		return Template{}, errors.New("has a brace outside " + Placeholder + " (the only placeholder there is)")
	}
	rest, ok := strings.CutPrefix(prefix, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(prefix, "http://"); !ok {
			return Template{}, errors.New("must start with https:// (or http://) followed by a host: an issuer is a URL")
		}
	}
	host, _, ok := strings.Cut(rest, "/")
	if !ok || host == "" {
		return Template{}, errors.New("must name a host before " + Placeholder + ": the placeholder is a path segment, e.g. https://login.microsoftonline.com/" + Placeholder + "/v2.0")
	}
	if !strings.HasSuffix(prefix, "/") || suffix != "" && suffix[0] != '/' {
		return Template{}, errors.New("must hold " + Placeholder + " as a whole path segment, between two slashes or at the end")
	}
	for _, seg := range strings.Split(rest[len(host):]+Placeholder+suffix, "/") {
		if seg == "." || seg == ".." {
			return Template{}, errors.New("must not have \".\" or \"..\" path segments")
		}
	}
	return Template{prefix: prefix, suffix: suffix}, nil
}

// Expand returns the template with id in place of the placeholder. The
// caller checks id first (CheckID); Expand does not.
func (t Template) Expand(id string) string {
	return t.prefix + id + t.suffix
}

// Tenant returns the tenant id that s names when s is exactly the template
// with a valid id (CheckID) in place of the placeholder; the fixed parts are
// compared byte for byte, case included. It does not allocate: id is a
// substring of s. Whether the tenant is trusted is the caller's allow-list.
func (t Template) Tenant(s string) (id string, ok bool) {
	if t.prefix == "" || len(s) <= len(t.prefix)+len(t.suffix) ||
		!strings.HasPrefix(s, t.prefix) || !strings.HasSuffix(s, t.suffix) {
		return "", false
	}
	id = s[len(t.prefix) : len(s)-len(t.suffix)]
	if !validID(id) {
		return "", false
	}
	return id, true
}

// String returns the template as it was written.
func (t Template) String() string {
	if t.prefix == "" {
		return ""
	}
	return t.prefix + Placeholder + t.suffix
}

// Host returns the template's host (and port), lower-cased.
func (t Template) Host() string {
	_, rest, ok := strings.Cut(t.prefix, "://")
	if !ok {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	return strings.ToLower(host)
}

// CheckID checks a tenant id: 1 to MaxIDLength ASCII letters, digits, '-'
// and '_', beginning and ending with a letter or a digit. So an id can never
// be or hold a path separator, a dot segment, a percent-encoding or a
// character that compares differently in another normalisation. Ids are
// compared byte for byte: write each as the provider writes it in "iss".
func CheckID(id string) error {
	if validID(id) {
		return nil
	}
	if id == "" || len(id) > MaxIDLength {
		return errors.New("must be 1 to " + strconv.Itoa(MaxIDLength) + " characters long")
	}
	return errors.New(strconv.Quote(id) + " is not a tenant id: use ASCII letters, digits, '-' and '_', beginning and ending with a letter or a digit")
}

func validID(id string) bool {
	if id == "" || len(id) > MaxIDLength || !alnum(id[0]) || !alnum(id[len(id)-1]) {
		return false
	}
	for i := 1; i < len(id)-1; i++ {
		if c := id[i]; !alnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func alnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// CheckGUID checks an Entra ID tenant id: a GUID in the lower-case
// 8-4-4-4-12 form that Entra ID writes in "iss" and "tid". An upper-case
// GUID is refused with a hint rather than matched case-insensitively: the
// issuer is compared exactly everywhere else, and one spelling per tenant
// keeps it so.
func CheckGUID(id string) error {
	if len(id) != 36 {
		return errors.New(strconv.Quote(id) + " is not a tenant GUID: Entra ID tenant ids have the form 72f988bf-86f1-41af-91ab-2d7cd011db47")
	}
	upper := false
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return errors.New(strconv.Quote(id) + " is not a tenant GUID: want hyphens after 8, 12, 16 and 20 hex digits")
			}
		case '0' <= c && c <= '9' || 'a' <= c && c <= 'f':
		case 'A' <= c && c <= 'F':
			upper = true
		default:
			return errors.New(strconv.Quote(id) + " is not a tenant GUID: want hex digits")
		}
	}
	if upper {
		return errors.New(strconv.Quote(id) + " must be written in lower case, as Entra ID writes it in \"iss\" and \"tid\"")
	}
	return nil
}

// entraHosts are the sign-in hosts of the Microsoft identity platform
// (global, US Government, China), whose tenant ids are GUIDs.
var entraHosts = []string{"login.microsoftonline.com", "sts.windows.net", "login.microsoftonline.us",
	"login.chinacloudapi.cn", "login.partner.microsoftonline.cn", "sts.chinacloudapi.cn"}

// Entra reports whether the template's host is a sign-in host of the
// Microsoft identity platform, whose tenant ids are GUIDs (CheckGUID).
func (t Template) Entra() bool {
	if t.prefix == "" {
		return false
	}
	h := t.Host()
	for _, e := range entraHosts {
		if h == e {
			return true
		}
	}
	return false
}
