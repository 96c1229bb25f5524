package authn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
)

// DevIssuer is an identity provider of its own for the demo and the
// tests: a fresh ECDSA P-256 key, its public JWKS, and tokens signed with
// it. A real deployment uses its identity provider's issuer, audience and
// JWKS URL instead (see the README).
type DevIssuer struct {
	key    *ecdsa.PrivateKey
	kid    string
	signer jose.Signer
	cfg    Config
}

// The issuer and audience of a DevIssuer.
const (
	DevIssuerName = "https://giia.invalid/dev-issuer"
	DevAudience   = "giia-services"
)

// NewDevIssuer makes a key and writes its public JWKS to jwksPath.
func NewDevIssuer(jwksPath string) (*DevIssuer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	kid := uuid.NewString()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), kid))
	if err != nil {
		return nil, err
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: kid, Algorithm: string(jose.ES256), Use: "sig"}}}
	raw, err := json.Marshal(set)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(jwksPath, raw, 0o644); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	return &DevIssuer{key: key, kid: kid, signer: signer, cfg: Config{Issuer: DevIssuerName, Audience: DevAudience, JWKS: jwksPath}}, nil
}

// Config is what a service verifying this issuer's tokens is given.
func (d *DevIssuer) Config() Config { return d.cfg }

// Token returns a token for subject acting for org with roles, valid for
// ttl.
func (d *DevIssuer) Token(subject string, org uuid.UUID, ttl time.Duration, roles ...string) (string, error) {
	now := time.Now()
	return d.Sign(jwt.Claims{
		Issuer: d.cfg.Issuer, Subject: subject, Audience: jwt.Audience{d.cfg.Audience},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)), Expiry: jwt.NewNumericDate(now.Add(ttl)),
	}, map[string]any{ClaimOrganization: org.String(), ClaimRoles: roles})
}

// Sign signs any claims with the issuer's key: for tests of tokens that
// must be refused (another audience, expired, ...).
func (d *DevIssuer) Sign(claims ...any) (string, error) {
	b := jwt.Signed(d.signer)
	for _, c := range claims {
		b = b.Claims(c)
	}
	return b.Serialize()
}
