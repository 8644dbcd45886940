package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/phonebook/phonebook/client"
)

func Example() {
	ctx := context.Background()
	c := client.New("http://127.0.0.1:8080", os.Getenv("PHONEBOOK_KEY"))

	// A retry with the same Idempotency-Key gets the first answer back.
	cust, err := c.CreateCustomer(ctx, client.CustomerInput{Name: "Ada Lovelace", ExternalID: "crm-42"}, client.IdempotencyKey("crm-42-create"))
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.AddPhone(ctx, client.ID(cust.ID), client.PhoneInput{Number: "(504) 555-0123", Type: "mobile"})
	switch {
	case client.ErrorCode(err) == client.CodePhoneDuplicate:
		fmt.Println("Ada already has this number")
	case err != nil:
		var e *client.Error
		if errors.As(err, &e) {
			for _, f := range e.Errors {
				fmt.Printf("%s: %s\n", f.Field, f.Message)
			}
		}
		log.Fatal(err)
	}

	// Conditional requests: a cached copy and its ETag.
	cust, err = c.GetCustomer(ctx, cust.UUID)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.GetCustomer(ctx, cust.UUID, client.IfNoneMatch(cust.ETag)); errors.Is(err, client.ErrNotModified) {
		fmt.Println("unchanged")
	}
	_, err = c.UpdateCustomer(ctx, cust.UUID, client.CustomerPatch{Name: client.String("Ada King")}, client.IfMatch(cust.ETag))
	if client.IsPreconditionFailed(err) {
		fmt.Println("someone changed Ada first; read her again")
	}

	// Every customer, page after page.
	err = c.IterateCustomers(ctx, client.ListCustomersParams{Status: client.StatusActive, Limit: 200}, func(cu *client.Customer) error {
		fmt.Println(cu.ID, cu.Name, len(cu.Phones))
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
}
