package kubeplane

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// adminUser is the static-token user every client of a plane authenticates as; it is in
// system:masters, like the admin credentials a managed cloud hands out.
const adminUser = "flotilla-admin"

func newToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// writeCredentials writes the static token file and, once per plane, the service-account
// signing key pair. Keeping the key across restarts keeps issued tokens valid.
func writeCredentials(dir, token string) error {
	line := fmt.Sprintf("%s,%s,%s-uid,system:masters\n", token, adminUser, adminUser)
	if err := writeFileAtomic(filepath.Join(dir, "tokens.csv"), []byte(line), 0o600); err != nil {
		return err
	}
	keyPath, pubPath := filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	if _, err := os.Stat(keyPath); err == nil {
		if _, err := os.Stat(pubPath); err == nil {
			return nil
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("service-account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return fmt.Errorf("service-account key: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return err
	}
	return writeFileAtomic(pubPath, pubPEM, 0o644)
}

// extractCA returns the CA of the serving certificate kube-apiserver generated in its
// --cert-dir: that file holds the leaf certificate followed by its self-signed CA.
func extractCA(certFile string) ([]byte, error) {
	b, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("%s: no CA certificate in it", certFile)
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", certFile, err)
		}
		if c.IsCA {
			return pem.EncodeToMemory(block), nil
		}
	}
}

// kubeconfig renders an admin kubeconfig for the plane, verifying the server against ca.
func kubeconfig(clusterID, endpoint, token string, ca []byte) (string, error) {
	if len(ca) == 0 || token == "" {
		return "", errors.New("kubeconfig needs the CA and the token")
	}
	name := "fleetsim-" + clusterID
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: %[1]s
  cluster:
    server: %[2]s
    certificate-authority-data: %[3]s
users:
- name: %[1]s-admin
  user:
    token: %[4]s
contexts:
- name: %[1]s
  context:
    cluster: %[1]s
    user: %[1]s-admin
current-context: %[1]s
`, name, endpoint, base64.StdEncoding.EncodeToString(ca), token), nil
}
