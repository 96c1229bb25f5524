package authn_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/services/authn"
	"github.com/giia/events/services/internal/problem"
	"github.com/giia/events/services/internal/web"
)

func newIssuer(t *testing.T) (*authn.DevIssuer, *authn.Verifier) {
	t.Helper()
	issuer, err := authn.NewDevIssuer(filepath.Join(t.TempDir(), "jwks.json"))
	require.NoError(t, err)
	v, err := authn.New(context.Background(), issuer.Config())
	require.NoError(t, err)
	return issuer, v
}

func authenticate(v *authn.Verifier, token string) (web.Principal, error) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return v.Authenticate(r)
}

// refused asserts a 401 problem whose message says why.
func refused(t *testing.T, err error, why string) {
	t.Helper()
	p, ok := problem.As(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, problem.Unauthenticated, p.Kind)
	assert.Equal(t, http.StatusUnauthorized, web.Status(p.Kind))
	assert.Contains(t, p.Message, why)
}

func TestVerifiedToken(t *testing.T) {
	issuer, v := newIssuer(t)
	org := uuid.New()
	tok, err := issuer.Token("bob", org, time.Minute, web.RoleBuyer, web.RoleWarehouse)
	require.NoError(t, err)
	p, err := authenticate(v, tok)
	require.NoError(t, err)
	assert.Equal(t, web.Principal{Subject: "bob", Organization: org, Roles: []string{web.RoleBuyer, web.RoleWarehouse}}, p)
}

// TestRefusedTokens: every token that must not pass is a 401: none,
// algorithm confusion, another key, expired, another audience or issuer,
// no organization.
func TestRefusedTokens(t *testing.T) {
	issuer, v := newIssuer(t)
	org := uuid.New()
	now := time.Now()
	std := func() jwt.Claims {
		return jwt.Claims{Issuer: authn.DevIssuerName, Subject: "mallory", Audience: jwt.Audience{authn.DevAudience},
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute))}
	}
	custom := map[string]any{authn.ClaimOrganization: org.String(), authn.ClaimRoles: []string{web.RolePlanner}}

	t.Run("none", func(t *testing.T) {
		body, err := json.Marshal(map[string]any{"iss": authn.DevIssuerName, "aud": authn.DevAudience, "exp": now.Add(time.Minute).Unix(), "org_id": org.String()})
		require.NoError(t, err)
		unsigned := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + base64.RawURLEncoding.EncodeToString(body) + "."
		_, err = authenticate(v, unsigned)
		refused(t, err, "does not verify")
	})
	t.Run("HS256 with the public key as secret", func(t *testing.T) {
		raw, err := os.ReadFile(issuer.Config().JWKS)
		require.NoError(t, err)
		var set jose.JSONWebKeySet
		require.NoError(t, json.Unmarshal(raw, &set))
		der, err := x509.MarshalPKIXPublicKey(set.Keys[0].Key)
		require.NoError(t, err)
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: der}, (&jose.SignerOptions{}).WithType("JWT"))
		require.NoError(t, err)
		tok, err := jwt.Signed(signer).Claims(std()).Claims(custom).Serialize()
		require.NoError(t, err)
		_, err = authenticate(v, tok)
		refused(t, err, "does not verify")
	})
	t.Run("another key", func(t *testing.T) {
		other, _ := newIssuer(t)
		tok, err := other.Token("mallory", org, time.Minute, web.RolePlanner)
		require.NoError(t, err)
		_, err = authenticate(v, tok)
		refused(t, err, "does not verify")
	})
	t.Run("expired", func(t *testing.T) {
		c := std()
		c.Expiry = jwt.NewNumericDate(now.Add(-time.Minute))
		tok, err := issuer.Sign(c, custom)
		require.NoError(t, err)
		_, err = authenticate(v, tok)
		refused(t, err, "expired")
	})
	t.Run("another audience", func(t *testing.T) {
		c := std()
		c.Audience = jwt.Audience{"another-api"}
		tok, err := issuer.Sign(c, custom)
		require.NoError(t, err)
		_, err = authenticate(v, tok)
		refused(t, err, "audience")
	})
	t.Run("another issuer", func(t *testing.T) {
		c := std()
		c.Issuer = "https://evil.invalid"
		tok, err := issuer.Sign(c, custom)
		require.NoError(t, err)
		_, err = authenticate(v, tok)
		refused(t, err, "issuer")
	})
	t.Run("no organization", func(t *testing.T) {
		tok, err := issuer.Sign(std(), map[string]any{authn.ClaimRoles: []string{web.RolePlanner}})
		require.NoError(t, err)
		_, err = authenticate(v, tok)
		refused(t, err, `"org_id"`)
	})
	t.Run("no header", func(t *testing.T) {
		_, err := v.Authenticate(httptest.NewRequest(http.MethodGet, "/", nil))
		refused(t, err, "bearer token is required")
	})
}

// TestJWKSURL: keys fetched from a URL, as from an identity provider.
func TestJWKSURL(t *testing.T) {
	issuer, _ := newIssuer(t)
	raw, err := os.ReadFile(issuer.Config().JWKS)
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(raw)
	}))
	defer srv.Close()
	cfg := issuer.Config()
	cfg.JWKS = srv.URL + "/.well-known/jwks.json"
	v, err := authn.New(context.Background(), cfg)
	require.NoError(t, err)
	tok, err := issuer.Token("carol", uuid.New(), time.Minute)
	require.NoError(t, err)
	_, err = authenticate(v, tok)
	assert.NoError(t, err)
}

func TestConfig(t *testing.T) {
	_, err := authn.New(context.Background(), authn.Config{Issuer: "x"})
	assert.ErrorContains(t, err, "--auth-audience, --auth-jwks")
	dir := t.TempDir()
	for want, content := range map[string]string{"holds no key": `{"keys": []}`, "private key": privateJWKS(t), "jwks.json": "{"} {
		path := filepath.Join(dir, "jwks.json")
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		_, err := authn.New(context.Background(), authn.Config{Issuer: "x", Audience: "y", JWKS: path})
		assert.ErrorContains(t, err, want)
	}
	_, err = authn.New(context.Background(), authn.Config{Issuer: "x", Audience: "y", JWKS: filepath.Join(dir, "missing.json")})
	assert.ErrorContains(t, err, "missing.json")
}

func privateJWKS(t *testing.T) string {
	t.Helper()
	k := jose.JSONWebKey{Key: []byte(strings.Repeat("k", 32)), KeyID: "secret", Algorithm: "HS256"}
	raw, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k}})
	require.NoError(t, err)
	return string(raw)
}
