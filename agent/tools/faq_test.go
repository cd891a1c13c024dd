package tools

import (
	"github.com/frontdesk/frontdesk/configs"
	"slices"
	"testing"
)

func TestFAQParaphrases(t *testing.T) {
	biz := exampleBusiness(t, "bright-smile")
	x := NewFAQIndex(biz.FAQs, 0)
	// want is a phrasing of the FAQ that must win: paraphrases as callers
	// say them, through a recogniser (lowercase, no punctuation).
	for _, tc := range []struct{ q, want string }{
		{"do you guys take delta dental", "Do you take my insurance?"},
		{"do you accept aetna", "Do you take my insurance?"},
		{"where is your office", "Where are you located?"},
		{"is there somewhere to park", "Where are you located?"},
		{"how much for a cleaning", "How much does a cleaning cost?"},
		{"my tooth hurts really bad", "I have a dental emergency."},
		{"do you see kids", "Do you see children?"},
		{"can i pay with a credit card", "How can I pay?"},
		{"do you do invisalign", "Do you do Invisalign?"},
		{"im scared of the dentist", "Do you offer sedation?"},
		{"what is your cancellation policy", "What is your cancellation policy?"},
		{"are you taking new patients", "Are you accepting new patients?"},
		{"what's your address", "Where are you located?"},
		{"how long does whitening take", "Do you do teeth whitening?"},
		{"is there a charge if i miss my appointment", "What is your cancellation policy?"},
	} {
		res := x.Search(tc.q)
		wantFAQ := slices.IndexFunc(biz.FAQs, func(f configs.FAQ) bool { return slices.Contains(f.Questions, tc.want) })
		if wantFAQ < 0 {
			t.Fatalf("no FAQ has the phrasing %q", tc.want)
		}
		if !res.Found || res.Answer != biz.FAQs[wantFAQ].Answer {
			t.Errorf("Search(%q) = found %v, score %.3f, question %q; want the FAQ of %q", tc.q, res.Found, res.Score, res.Question, tc.want)
		}
	}
}

func TestFAQOffTopic(t *testing.T) {
	x := NewFAQIndex(exampleBusiness(t, "bright-smile").FAQs, 0)
	for _, q := range []string{
		"do you sell pizza", "what's the weather like today", "can you tell me a joke", "who won the game last night",
		"what is the meaning of life", "do you fix cars", "i want to order a large pepperoni", "can i bring my dog",
		"", "um uh", "the",
	} {
		if res := x.Search(q); res.Found || res.Answer != "" {
			t.Errorf("Search(%q) = found with score %.3f (%q), want not found", q, res.Score, res.Question)
		}
	}
}

func TestFAQOtherBusiness(t *testing.T) {
	biz := exampleBusiness(t, "shear-elegance")
	x := NewFAQIndex(biz.FAQs, 0)
	if res := x.Search("which tube station is nearest"); !res.Found || res.Answer != biz.FAQs[1].Answer {
		t.Errorf("tube question: got %+v", res)
	}
	if res := x.Search("do you have parking"); res.Found {
		t.Errorf("parking is not configured for the salon, got %+v", res)
	}
	if res := NewFAQIndex(nil, 0).Search("anything"); res.Found {
		t.Errorf("empty index found %+v", res)
	}
}

func TestFAQThreshold(t *testing.T) {
	faqs := exampleBusiness(t, "bright-smile").FAQs
	q := "my son needs to see a dentist" // a weak match to the children FAQ
	lax, strict := NewFAQIndex(faqs, 0.3), NewFAQIndex(faqs, 0.9)
	if !lax.Search(q).Found || strict.Search(q).Found {
		t.Errorf("threshold 0.3 found=%v, 0.9 found=%v; want true, false", lax.Search(q).Found, strict.Search(q).Found)
	}
	if got := NewFAQIndex(faqs, 0).Threshold(); got != DefaultFAQThreshold {
		t.Errorf("default threshold = %v", got)
	}
}

func TestTerms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"What's your cancellation policy?", []string{"cancellation", "policy"}},
		{"Cleanings, cleaning, CLEAN", []string{"clean", "clean", "clean"}},
		{"Do the kids' teeth hurt?", []string{"child", "tooth", "pain"}},
		{"Is there parking?", []string{"park"}},
		{"I'm closing; it closed", []string{"clos", "clos"}},
		{"José’s x-rays", []string{"josé", "x", "ray"}},
	} {
		got := Terms(tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Terms(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func BenchmarkFAQSearch(b *testing.B) {
	x := NewFAQIndex(exampleBusiness(b, "bright-smile").FAQs, 0)
	b.ReportAllocs()
	for b.Loop() {
		x.Search("do you guys take delta dental insurance")
	}
}
