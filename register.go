package gatehouse

import (
	"context"
	"strings"
)

// RegisterInput is what a new account starts with.
type RegisterInput struct {
	Email    string
	Password string
	Name     string
}

// Register creates an account with a password and signs it in.
func (s *AuthService) Register(ctx context.Context, in RegisterInput, client Client) (*TokenSet, error) {
	email := NormalizeEmail(in.Email)
	name := strings.TrimSpace(in.Name)
	var fields []FieldError
	if fe := ValidateEmail(email); fe != nil {
		fields = append(fields, *fe)
	}
	if msg := s.policy.Check(in.Password); msg != "" {
		fields = append(fields, FieldError{Field: "password", Message: msg})
	}
	if fe := ValidateName(name); fe != nil {
		fields = append(fields, *fe)
	}
	if len(fields) > 0 {
		return nil, Invalid(fields...)
	}
	if err := s.checkBreached(ctx, "password", in.Password); err != nil {
		return nil, err
	}
	// Refuse a known duplicate before spending a hash on it; the unique index still decides races.
	if _, err := s.store.UserByEmail(ctx, email); err == nil {
		return nil, ErrEmailTaken
	} else if !isNotFound(err) {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	now := s.now()
	u := &User{
		ID:           NewID(),
		Email:        email,
		Name:         name,
		PasswordHash: hash,
		Role:         RoleUser,
		IsActive:     true,
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	var sess *Session
	var refresh string
	err = s.tx(ctx, func(tx StoreTx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		// In the same transaction: the account exists if and only if its verification email is queued.
		if s.email != nil {
			if err := s.queueVerification(ctx, tx, u, false, now); err != nil {
				return err
			}
		}
		if sess, refresh, err = s.startSession(ctx, tx, u, client, now, []string{AMRPassword}); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, client, EventRegistered, u.ID, OutcomeSuccess, "")
	})
	if err != nil {
		return nil, err
	}
	if s.email != nil {
		s.email.wake()
	}
	s.log.InfoContext(ctx, "user registered", "user_id", u.ID)
	return s.issue(ctx, u, sess, refresh)
}

// CreateUser makes an account without signing it in (operators, the CLI).
func (s *AuthService) CreateUser(ctx context.Context, in RegisterInput, role string, verified bool) (*User, error) {
	email := NormalizeEmail(in.Email)
	var fields []FieldError
	if fe := ValidateEmail(email); fe != nil {
		fields = append(fields, *fe)
	}
	if msg := s.policy.Check(in.Password); msg != "" {
		fields = append(fields, FieldError{Field: "password", Message: msg})
	}
	if fe := ValidateName(strings.TrimSpace(in.Name)); fe != nil {
		fields = append(fields, *fe)
	}
	if !ValidRole(role) {
		fields = append(fields, FieldError{Field: "role", Message: "Role must be user or admin."})
	}
	if len(fields) > 0 {
		return nil, Invalid(fields...)
	}
	if err := s.checkBreached(ctx, "password", in.Password); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	now := s.now()
	u := &User{ID: NewID(), Email: email, Name: strings.TrimSpace(in.Name), PasswordHash: hash,
		Role: role, IsActive: true, EmailVerified: verified, CreatedAt: now, UpdatedAt: now}
	if err := s.tx(ctx, func(tx StoreTx) error { return tx.CreateUser(ctx, u) }); err != nil {
		return nil, err
	}
	return u, nil
}
