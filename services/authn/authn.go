// Package authn verifies the bearer tokens of the services' HTTP APIs:
// JWTs signed by an identity provider whose keys come from a JWKS file or
// URL, checked for signature, algorithm, issuer, audience and expiry by
// github.com/coreos/go-oidc, and turned into the web.Principal the APIs
// act for: the organization from the claim "org_id", the roles from the
// claim "roles". It also holds DevIssuer, the key and tokens of the demo
// and the tests.
package authn

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/giia/events/services/internal/problem"
	"github.com/giia/events/services/internal/web"
)

// The claims a token carries beside the registered ones.
const (
	ClaimOrganization = "org_id" // the organization's UUID
	ClaimRoles        = "roles"  // a list of role names (web.RoleBuyer, ...)
)

// Algorithms are the signature algorithms a token may use: asymmetric
// only, so that a public key can never be used as an HMAC secret, and
// never "none".
var Algorithms = []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512, oidc.PS256, oidc.EdDSA}

// Config says whose tokens a service accepts.
type Config struct {
	Issuer   string // the "iss" a token must carry
	Audience string // a value its "aud" must hold
	// JWKS is where the issuer's public keys are: an https:// (or
	// http://) URL, fetched again when a token names a key it does not
	// know (key rotation), or a file holding a JSON Web Key Set.
	JWKS string
}

// Validate reports what is missing.
func (c Config) Validate() error {
	var missing []string
	for flag, v := range map[string]string{"--auth-issuer": c.Issuer, "--auth-audience": c.Audience, "--auth-jwks": c.JWKS} {
		if v == "" {
			missing = append(missing, flag)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("HTTP authentication needs an issuer, an audience and its keys (missing %s)", strings.Join(sortStrings(missing), ", "))
	}
	return nil
}

// Verifier authenticates requests by their bearer token.
type Verifier struct {
	v *oidc.IDTokenVerifier
}

// New returns the verifier of cfg; a JWKS file is read now.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var keys oidc.KeySet
	if strings.HasPrefix(cfg.JWKS, "https://") || strings.HasPrefix(cfg.JWKS, "http://") {
		keys = oidc.NewRemoteKeySet(context.WithoutCancel(ctx), cfg.JWKS)
	} else {
		static, err := readJWKS(cfg.JWKS)
		if err != nil {
			return nil, err
		}
		keys = static
	}
	return &Verifier{v: oidc.NewVerifier(cfg.Issuer, keys, &oidc.Config{ClientID: cfg.Audience, SupportedSigningAlgs: Algorithms})}, nil
}

// readJWKS reads a JSON Web Key Set file of public keys.
func readJWKS(path string) (*oidc.StaticKeySet, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", path, err)
	}
	var keys []crypto.PublicKey
	for i, k := range set.Keys {
		if !k.IsPublic() {
			return nil, fmt.Errorf("JWKS %s: key %d (%q) is a private key: publish only public keys", path, i, k.KeyID)
		}
		keys = append(keys, k.Key)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("JWKS %s holds no key", path)
	}
	return &oidc.StaticKeySet{PublicKeys: keys}, nil
}

// Authenticate verifies the request's bearer token and returns who it is
// for. Every refusal is a 401 problem saying why, never the token.
func (v *Verifier) Authenticate(r *http.Request) (web.Principal, error) {
	h := r.Header.Get("Authorization")
	scheme, raw, ok := strings.Cut(h, " ")
	if h == "" {
		return web.Principal{}, unauthenticated("a bearer token is required (Authorization: Bearer ...)")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return web.Principal{}, unauthenticated("the Authorization header must be a bearer token")
	}
	tok, err := v.v.Verify(r.Context(), strings.TrimSpace(raw))
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return web.Principal{}, unauthenticated("the token expired at %s", expired.Expiry.UTC().Format("2006-01-02T15:04:05Z"))
		}
		return web.Principal{}, unauthenticated("the token does not verify: %v", err)
	}
	var claims struct {
		Organization string   `json:"org_id"`
		Roles        []string `json:"roles"`
	}
	if err := tok.Claims(&claims); err != nil {
		return web.Principal{}, unauthenticated("the token's claims: %v", err)
	}
	org, err := uuid.Parse(claims.Organization)
	if err != nil || org == uuid.Nil {
		return web.Principal{}, unauthenticated("the token's %q claim must be the organization's UUID", ClaimOrganization)
	}
	return web.Principal{Subject: tok.Subject, Organization: org, Roles: claims.Roles}, nil
}

func unauthenticated(format string, args ...any) error {
	return &problem.Error{Kind: problem.Unauthenticated, Field: "Authorization", Message: fmt.Sprintf(format, args...)}
}

func sortStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

// The roles of the APIs (web.RoleBuyer, ...), for the tools outside
// services/ that mint tokens.
const (
	RoleBuyer     = web.RoleBuyer
	RoleSales     = web.RoleSales
	RolePlanner   = web.RolePlanner
	RoleWarehouse = web.RoleWarehouse
)

// AllRoles are every role of the APIs.
var AllRoles = []string{RoleBuyer, RoleSales, RolePlanner, RoleWarehouse}
